/** Messages of the public recovery and activation screens, and of recovery cases wherever shown. */
import { defineMessages } from '../i18n/i18n.tsx';

export const recoveryMessages = defineMessages(
  {
    title: 'Récupérer votre compte',
    intro:
      'Vous avez perdu votre second facteur et l’assistance a ouvert une demande de récupération. Votre responsable a vérifié votre identité et vous avez reçu un code à votre adresse enregistrée : choisissez ici un nouveau mot de passe.',
    completeTitle: 'Terminer la récupération',
    code: 'Code reçu par courriel',
    codeHint: 'Quatre groupes de quatre caractères, par exemple ABCD-EFGH-JKMN-PQRS.',
    newPassword: 'Nouveau mot de passe',
    newPasswordHint: 'Au moins 12 caractères ; une phrase de plusieurs mots est la meilleure.',
    confirmPassword: 'Confirmer le nouveau mot de passe',
    mismatch: 'Les deux mots de passe ne sont pas identiques.',
    complete: 'Choisir ce mot de passe',
    completed:
      'Votre nouveau mot de passe est enregistré. Vos anciens seconds facteurs, codes de secours et sessions sont révoqués. Connectez-vous avec ce mot de passe, puis enregistrez un nouveau second facteur : votre compte restera en période probatoire quelque temps.',
    completedTitle: 'Récupération terminée',
    goLogin: 'Se connecter',
    failed: 'Ce code ne permet pas de terminer une récupération (inconnu, déjà utilisé, annulé ou expiré).',
    notReady:
      'La récupération n’est pas encore possible : le délai de sécurité indiqué dans le courriel n’est pas écoulé.',
    refused: 'Refusé : {message}',
    cancelTitle: 'Annuler une demande que vous n’avez pas faite',
    cancelIntro:
      'Si vous n’avez rien demandé, annulez la demande avec le code du premier courriel, puis prévenez votre responsable.',
    cancelCode: 'Code d’annulation reçu par courriel',
    cancel: 'Annuler la demande',
    cancelled: 'La demande de récupération est annulée. Prévenez votre responsable.',
    cancelFailed: 'Ce code n’annule aucune demande en cours.',
    activationTitle: 'Activer votre compte',
    activationIntro:
      'Un compte Rempart a été créé pour vous. Choisissez votre mot de passe avec le code reçu par courriel (valable 7 jours), puis enregistrez votre second facteur à la première connexion.',
    activationCode: 'Code d’activation reçu par courriel',
    password: 'Mot de passe',
    activate: 'Activer mon compte',
    activated:
      'Votre compte est activé. Connectez-vous avec votre identifiant et ce mot de passe, puis enregistrez votre second facteur.',
    activatedTitle: 'Compte activé',
    activationFailed: 'Ce code d’activation n’est pas valable (inconnu, déjà utilisé ou expiré).',
    status_open: 'En attente du responsable',
    status_approved: 'Approuvée',
    status_rejected: 'Refusée',
    status_cancelled: 'Annulée',
    status_completed: 'Terminée',
  },
  {
    title: 'Recover your account',
    intro:
      'You lost your second factor and the helpdesk opened a recovery case. Your manager verified your identity and you received a code at your registered address: choose a new password here.',
    completeTitle: 'Complete the recovery',
    code: 'Code received by email',
    codeHint: 'Four groups of four characters, for example ABCD-EFGH-JKMN-PQRS.',
    newPassword: 'New password',
    newPasswordHint: 'At least 12 characters; a phrase of several words is best.',
    confirmPassword: 'Confirm the new password',
    mismatch: 'The two passwords differ.',
    complete: 'Choose this password',
    completed:
      'Your new password is set. Your former second factors, recovery codes and sessions are revoked. Log in with this password, then enrol a new second factor: your account stays on probation for a while.',
    completedTitle: 'Recovery completed',
    goLogin: 'Log in',
    failed: 'This code does not complete a recovery (unknown, used, cancelled or expired).',
    notReady: 'The recovery is not possible yet: the security delay stated in the email has not passed.',
    refused: 'Refused: {message}',
    cancelTitle: 'Cancel a case you did not ask for',
    cancelIntro:
      'If you did not ask for anything, cancel the case with the code of the first email, then tell your manager.',
    cancelCode: 'Cancel code received by email',
    cancel: 'Cancel the case',
    cancelled: 'The recovery case is cancelled. Tell your manager.',
    cancelFailed: 'This code cancels no open case.',
    activationTitle: 'Activate your account',
    activationIntro:
      'A Rempart account was created for you. Choose your password with the code received by email (valid 7 days), then enrol your second factor at your first login.',
    activationCode: 'Activation code received by email',
    password: 'Password',
    activate: 'Activate my account',
    activated:
      'Your account is active. Log in with your login and this password, then enrol your second factor.',
    activatedTitle: 'Account activated',
    activationFailed: 'This activation code is not valid (unknown, used or expired).',
    status_open: 'Awaiting the manager',
    status_approved: 'Approved',
    status_rejected: 'Rejected',
    status_cancelled: 'Cancelled',
    status_completed: 'Completed',
  },
);
