/** Messages of the portal's FranceConnect login: the button's introduction and each callback result. */
import { defineMessages } from '../i18n/i18n.tsx';

export const franceconnectMessages = defineMessages(
  {
    title: 'Avec FranceConnect',
    intro:
      'FranceConnect vous identifie avec un compte que vous avez déjà (impots.gouv.fr, ameli.fr, l’Identité Numérique La Poste…). Rempart reçoit votre identité d’état civil pour retrouver votre dossier, et ne la garde pas.',
    resultTitle: 'Connexion avec FranceConnect',
    result_refused:
      'Aucun dossier ne correspond de façon certaine à l’identité transmise par FranceConnect. Connectez-vous avec un code reçu par email, ou adressez-vous à votre conseiller.',
    result_level_refused:
      'FranceConnect n’a pas confirmé un niveau d’authentification suffisant. Recommencez, ou connectez-vous avec un code reçu par email.',
    result_cancelled: 'Connexion annulée chez FranceConnect.',
    result_failed: 'La connexion n’a pas pu être vérifiée. Recommencez.',
    result_unavailable:
      'FranceConnect ne répond pas pour le moment. Connectez-vous avec un code reçu par email, ou réessayez plus tard.',
  },
  {
    title: 'With FranceConnect',
    intro:
      'FranceConnect identifies you with an account you already have (impots.gouv.fr, ameli.fr, La Poste’s digital identity…). Rempart receives your civil-status identity to find your record, and does not keep it.',
    resultTitle: 'Log in with FranceConnect',
    result_refused:
      'No record matches with certainty the identity FranceConnect sent. Log in with a code sent by email, or ask your counselor.',
    result_level_refused:
      'FranceConnect did not confirm a sufficient authentication level. Try again, or log in with a code sent by email.',
    result_cancelled: 'Login cancelled at FranceConnect.',
    result_failed: 'The login could not be verified. Try again.',
    result_unavailable:
      'FranceConnect does not answer now. Log in with a code sent by email, or try again later.',
  },
);

/** The refusals the callback reports in `?franceconnect=` (src/portal/franceconnect.ts). */
export const FRANCECONNECT_RESULTS = [
  'refused',
  'level_refused',
  'cancelled',
  'failed',
  'unavailable',
] as const;
export type FranceConnectResult = (typeof FRANCECONNECT_RESULTS)[number];
