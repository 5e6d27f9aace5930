/** Messages of ProConnect: the login button, the return page, linking from my account. */
import { defineMessages } from '../i18n/i18n.tsx';

export const proconnectMessages = defineMessages(
  {
    or: 'Avec ProConnect, l’identité des agents publics, si votre compte y est lié.',
    returnTitle: 'Connexion avec ProConnect',
    result_ok: 'Connexion réussie.',
    result_linked: 'Votre identité ProConnect est maintenant liée à votre compte.',
    result_not_linked:
      'Cette identité ProConnect n’est liée à aucun compte Rempart. Connectez-vous avec votre identifiant et votre second facteur, puis liez-la depuis « Mes sessions ».',
    result_already_linked:
      'Cette identité ProConnect est déjà liée à un compte (ou votre compte l’est déjà).',
    result_mfa_required:
      'ProConnect n’a pas confirmé une authentification à deux facteurs : Rempart l’exige. Reconnectez-vous à ProConnect avec un second facteur.',
    result_refused:
      'Ce compte ne peut pas se connecter (suspendu, désactivé ou verrouillé), ou la session qui demandait le lien a pris fin.',
    result_cancelled: 'Connexion annulée chez ProConnect.',
    result_failed: 'La connexion n’a pas pu être vérifiée. Recommencez depuis l’écran de connexion.',
    result_unavailable:
      'ProConnect ne répond pas pour le moment. Utilisez votre identifiant et votre second facteur.',
    backToLogin: 'Revenir à la connexion',
    linkTitle: 'ProConnect',
    linkIntro:
      'Liez votre identité ProConnect à ce compte pour vous connecter avec elle. ProConnect doit confirmer un second facteur à chaque connexion.',
    linked: 'Identité liée le {date} ({issuer}).',
    notLinked: 'Aucune identité ProConnect n’est liée à ce compte.',
    link: 'Lier mon identité ProConnect',
    unlink: 'Retirer le lien ProConnect',
    unlinked: 'Le lien ProConnect est retiré.',
  },
  {
    or: 'With ProConnect, the public agents’ identity, if your account is linked to it.',
    returnTitle: 'Log in with ProConnect',
    result_ok: 'Logged in.',
    result_linked: 'Your ProConnect identity is now linked to your account.',
    result_not_linked:
      'This ProConnect identity is linked to no Rempart account. Log in with your login and second factor, then link it from “My sessions”.',
    result_already_linked:
      'This ProConnect identity is already linked to an account (or your account already has one).',
    result_mfa_required:
      'ProConnect did not confirm a two-factor authentication: Rempart requires one. Log in to ProConnect again with a second factor.',
    result_refused:
      'This account cannot log in (suspended, disabled or locked), or the session that asked for the link has ended.',
    result_cancelled: 'Login cancelled at ProConnect.',
    result_failed: 'The login could not be verified. Start again from the login screen.',
    result_unavailable: 'ProConnect does not answer now. Use your login and second factor.',
    backToLogin: 'Back to the login',
    linkTitle: 'ProConnect',
    linkIntro:
      'Link your ProConnect identity to this account to log in with it. ProConnect must confirm a second factor at every login.',
    linked: 'Identity linked on {date} ({issuer}).',
    notLinked: 'No ProConnect identity is linked to this account.',
    link: 'Link my ProConnect identity',
    unlink: 'Remove the ProConnect link',
    unlinked: 'The ProConnect link is removed.',
  },
);
