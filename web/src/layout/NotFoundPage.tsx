/** Any path the console does not know. */
import { Button } from '@codegouvfr/react-dsfr/Button';
import { type ReactNode, useEffect } from 'react';
import { useT } from '../i18n/i18n.tsx';
import { layoutMessages } from './messages.ts';

/** The "page not found" screen. */
export function NotFoundPage(): ReactNode {
  const t = useT(layoutMessages);
  useEffect(() => {
    document.title = `${t('notFoundTitle')} — Rempart`;
  }, [t]);
  return (
    <>
      <h1>{t('notFoundTitle')}</h1>
      <p>{t('notFoundText')}</p>
      <Button linkProps={{ to: '/' }}>{t('backHome')}</Button>
    </>
  );
}
