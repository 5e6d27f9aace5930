/** Messages of the helpdesk's screens. */
import { defineMessages } from '../i18n/i18n.tsx';

export const helpdeskMessages = defineMessages(
  {
    title: 'Récupération de compte',
    intro:
      'Un agent a perdu son second facteur ? Ouvrez une demande de récupération pour son compte. Vous ne changez ni son mot de passe ni ses facteurs : le titulaire est prévenu aussitôt, le responsable de son organisation vérifie son identité en personne ou en visioconférence, puis le titulaire termine lui-même avec le code envoyé à son adresse enregistrée.',
    openTitle: 'Ouvrir une demande',
    login: 'Identifiant du compte',
    loginHint: 'L’identifiant de connexion de l’agent, par exemple prenom.nom.',
    open: 'Ouvrir la demande',
    opened:
      'Demande ouverte pour {login}. Le titulaire est prévenu ; son responsable doit maintenant vérifier son identité.',
    failed: 'Demande refusée : {message}',
    casesTitle: 'Les demandes que vous avez ouvertes',
    noCase: 'Aucune demande pour l’instant.',
    colLogin: 'Compte',
    colOpened: 'Ouverte le',
    colStatus: 'État',
    colNotBefore: 'Possible à partir du',
  },
  {
    title: 'Account recovery',
    intro:
      'A staff member lost their second factor? Open a recovery case for their account. You change neither their password nor their factors: the owner is told at once, their organisation’s manager verifies their identity in person or by video, then the owner completes it themselves with the code sent to their registered address.',
    openTitle: 'Open a case',
    login: 'Account login',
    loginHint: 'The staff member’s login, for example firstname.lastname.',
    open: 'Open the case',
    opened: 'Case opened for {login}. The owner is told; their manager must now verify their identity.',
    failed: 'Refused: {message}',
    casesTitle: 'The cases you opened',
    noCase: 'No case yet.',
    colLogin: 'Account',
    colOpened: 'Opened',
    colStatus: 'Status',
    colNotBefore: 'Possible from',
  },
);
