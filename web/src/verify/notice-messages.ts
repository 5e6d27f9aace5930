/** Messages of the pasted-notice check on the /verifier page (T6). */
import { defineMessages } from '../i18n/i18n.tsx';

export const noticeMessages = defineMessages(
  {
    title: 'Vérifier un avis signé',
    intro:
      'Les avis que Rempart vous adresse (par exemple l’information sur une violation de vos données) sont signés. Collez ici le texte complet de l’avis, lignes de signature comprises (elles commencent par « — rempart/notices/ »), pour savoir s’il vient de nous et n’a pas été modifié.',
    notice: 'Texte de l’avis',
    noticeHint: 'Tout le texte, de la première ligne à la dernière ligne de signature.',
    check: 'Vérifier l’avis',
    genuineTitle: 'Avis authentique',
    signedBy: 'Cet avis a été signé par Rempart (clé {key}) et n’a pas été modifié.',
    sent: 'Il s’agit d’une {kind}, envoyée le {date}.',
    incidentNotice: 'notification d’une violation de données',
    genuineAdvice: 'Même authentique, aucun avis ne vous demandera votre mot de passe ni un code reçu.',
    notGenuineTitle: 'Avis non authentique',
    notGenuine:
      'Ce texte n’est pas un avis signé par Rempart, ou il a été modifié (un seul caractère suffit). Vérifiez que vous avez collé tout le texte. Sinon, ne suivez aucune de ses consignes et signalez-le sur cybermalveillance.gouv.fr.',
    throttled: 'Trop de vérifications depuis votre connexion. Réessayez dans une minute.',
    refused: 'La vérification a échoué : {message}',
    offline: 'Pour vérifier un avis sans passer par ce site :',
    keysLink: 'les clés de vérification publiées',
  },
  {
    title: 'Check a signed notice',
    intro:
      'The notices Rempart sends you (for example about a breach of your data) are signed. Paste the whole notice here, signature lines included (they start with “— rempart/notices/”), to learn whether it comes from us unaltered.',
    notice: 'Text of the notice',
    noticeHint: 'All of it, from the first line to the last signature line.',
    check: 'Check the notice',
    genuineTitle: 'Genuine notice',
    signedBy: 'Rempart signed this notice (key {key}) and it was not altered.',
    sent: 'It is a {kind}, sent on {date}.',
    incidentNotice: 'notice of a personal data breach',
    genuineAdvice: 'Even a genuine notice never asks for your password or a code you received.',
    notGenuineTitle: 'Not a genuine notice',
    notGenuine:
      'This text is not a notice Rempart signed, or it was altered (one character is enough). Check that you pasted all of it. Otherwise follow none of its instructions and report it at cybermalveillance.gouv.fr.',
    throttled: 'Too many checks from your connection. Try again in a minute.',
    refused: 'The check failed: {message}',
    offline: 'To check a notice without this site:',
    keysLink: 'the published verification keys',
  },
);
