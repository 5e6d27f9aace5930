/**
 * The ProConnect button of the login screen, shown when the server has ProConnect configured (the
 * agents' identity federation: docs/SECURITY.md). It is a plain link to the API's start route: a
 * top-level navigation to ProConnect and back, with no personal data in any address.
 */
import { ProConnectButton } from '@codegouvfr/react-dsfr/ProConnectButton';
import { type ReactNode, useEffect, useState } from 'react';
import { api } from '../api/client.ts';
import { useT } from '../i18n/i18n.tsx';
import { proconnectMessages } from './proconnect-messages.ts';

/** Whether the server has ProConnect on (GET /api/v1/auth/proconnect); undefined while asking. */
export function useProConnectEnabled(): boolean | undefined {
  const [enabled, setEnabled] = useState<boolean | undefined>();
  useEffect(() => {
    api.GET('/api/v1/auth/proconnect').then(
      ({ data }) => setEnabled(data?.enabled === true),
      () => setEnabled(false),
    );
  }, []);
  return enabled;
}

/** The ProConnect entry of the login screen (nothing when the federation is off). */
export function ProConnectLogin(): ReactNode {
  const t = useT(proconnectMessages);
  if (!useProConnectEnabled()) return null;
  return (
    <div className="fr-mb-5w">
      <p>{t('or')}</p>
      <ProConnectButton url="/api/v1/auth/proconnect/login" />
      <hr className="fr-mt-3w" />
    </div>
  );
}
