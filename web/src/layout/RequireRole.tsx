/** A screen for logged-in staff (second factor verified), optionally of some roles only. */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import type { ReactNode } from 'react';
import { Navigate } from 'react-router';
import { useT } from '../i18n/i18n.tsx';
import { type Role, useSession } from '../session.tsx';
import { layoutMessages } from './messages.ts';

/** Renders `children` for an mfa session of one of `roles` (any role when absent). */
export function RequireRole({
  roles,
  children,
}: {
  roles?: readonly Role[];
  children: ReactNode;
}): ReactNode {
  const t = useT(layoutMessages);
  const { me } = useSession();
  if (me === undefined) return <p>{t('loading')}</p>;
  if (me === null) return <Navigate to="/connexion" replace />;
  if (me.assurance !== 'mfa') return <Navigate to="/second-facteur" replace />;
  if (roles && !roles.includes(me.account.role as Role)) {
    return <Alert severity="warning" title={t('forbiddenTitle')} description={t('forbiddenText')} />;
  }
  return children;
}
