/** Messages of the public page that checks a message's verification code (T6). */
import { defineMessages } from '../i18n/i18n.tsx';

export const verifyMessages = defineMessages(
  {
    title: 'Vérifier un message',
    intro:
      'Chaque message envoyé par Rempart (courriel, SMS, courrier, espace personnel) porte un code de vérification, par exemple 7QK4-M2ZD-9XAB. Saisissez-le ici pour savoir si le message vient vraiment de nous. Cette page ne vous demandera jamais de donnée personnelle.',
    code: 'Code de vérification du message',
    codeHint:
      'Douze caractères, en trois groupes de quatre ; majuscules, espaces et tirets sont indifférents.',
    check: 'Vérifier',
    genuineTitle: 'Message authentique',
    genuine: 'Ce code correspond à un message envoyé par Rempart : {kind}, par {channel}, le {date}.',
    genuineAdvice:
      'Vérifiez que le message que vous avez sous les yeux est bien de ce type et de cette date. Même authentique, aucun message ne vous demandera votre mot de passe ni un code reçu.',
    notGenuineTitle: 'Code inconnu : ce message ne vient pas de Rempart',
    notGenuine:
      'Aucun message envoyé par Rempart ne porte ce code. Vérifiez votre saisie. Si le code est bien celui du message, ne répondez pas, ne cliquez sur aucun lien, ne donnez aucune information, et signalez-le sur cybermalveillance.gouv.fr ou au 33700 (SMS).',
    throttled: 'Trop de vérifications depuis votre connexion. Réessayez dans une minute.',
    refused: 'La vérification a échoué : {message}',
    'kind.incident_notice': 'notification d’une violation de données',
    'kind.access_receipt': 'avis de consultation de votre dossier',
    'kind.portal_login_code': 'code de connexion à votre espace',
    'kind.account_locked': 'avis de blocage de compte',
    'kind.recovery_code': 'code de récupération de compte',
    'kind.login_locked': 'avis de verrouillage de compte après des échecs de connexion',
    'kind.recovery_opened': 'avis d’ouverture d’une récupération de compte',
    'kind.other': 'message « {kind} »',
    'channel.email': 'courriel',
    'channel.sms': 'SMS',
    'channel.letter': 'courrier',
    'channel.portal': 'votre espace personnel',
    'channel.in_app': 'la console',
  },
  {
    title: 'Check a message',
    intro:
      'Every message Rempart sends (email, SMS, letter, personal space) carries a verification code, for example 7QK4-M2ZD-9XAB. Type it here to learn whether the message really comes from us. This page never asks for personal data.',
    code: 'Message verification code',
    codeHint: 'Twelve characters in three groups of four; case, spaces and hyphens do not matter.',
    check: 'Check',
    genuineTitle: 'Genuine message',
    genuine: 'This code belongs to a message Rempart sent: {kind}, by {channel}, on {date}.',
    genuineAdvice:
      'Check that the message in front of you is of this kind and date. Even a genuine message never asks for your password or a code you received.',
    notGenuineTitle: 'Unknown code: this message does not come from Rempart',
    notGenuine:
      'No message Rempart sent carries this code. Check what you typed. If the code is the message’s, do not answer, click no link, give no information, and report it at cybermalveillance.gouv.fr or to 33700 (SMS).',
    throttled: 'Too many checks from your connection. Try again in a minute.',
    refused: 'The check failed: {message}',
    'kind.incident_notice': 'notice of a personal data breach',
    'kind.access_receipt': 'receipt of an access to your record',
    'kind.portal_login_code': 'login code for your personal space',
    'kind.account_locked': 'account locked notice',
    'kind.recovery_code': 'account recovery code',
    'kind.login_locked': 'account locked after failed logins notice',
    'kind.recovery_opened': 'account recovery opened notice',
    'kind.other': '“{kind}” message',
    'channel.email': 'email',
    'channel.sms': 'SMS',
    'channel.letter': 'letter',
    'channel.portal': 'your personal space',
    'channel.in_app': 'the console',
  },
);
