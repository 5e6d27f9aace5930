/**
 * The person's own space (their record, who read it and why, the incidents that touch them, checking
 * that a message is genuine) has its place here; its API comes with the next step (docs/ARCHITECTURE.md).
 */
import { CallOut } from '@codegouvfr/react-dsfr/CallOut';
import { type ReactNode, useEffect } from 'react';
import { defineMessages, useT } from '../i18n/i18n.tsx';

const messages = defineMessages(
  {
    title: 'Mon espace',
    text: 'L’espace des personnes inscrites (votre dossier, qui l’a consulté et pourquoi, les incidents qui vous concernent) ouvrira prochainement.',
  },
  {
    title: 'My space',
    text: 'The space for registered persons (your record, who read it and why, the incidents that concern you) opens soon.',
  },
);

/** The placeholder of the person's portal. */
export function PortalPlaceholder(): ReactNode {
  const t = useT(messages);
  useEffect(() => {
    document.title = `${t('title')} — Rempart`;
  }, [t]);
  return (
    <>
      <h1>{t('title')}</h1>
      <CallOut>{t('text')}</CallOut>
    </>
  );
}
