/**
 * The FranceConnect entry of the portal's login page (docs/FRANCECONNECT.md): the official
 * button (DSFR FranceConnectButton) as a plain link to the API's start route, a top-level navigation
 * to FranceConnect and back with no personal data in any address; and, when the callback sent the
 * browser back here with `?franceconnect=<code>`, what happened, in words that never say whether
 * anyone is on file. The login page (the portal's) decides whether FranceConnect is on
 * (GET /api/v1/portal/franceconnect) and reads the result from its address.
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { FranceConnectButton } from '@codegouvfr/react-dsfr/FranceConnectButton';
import type { ReactNode } from 'react';
import { useT } from '../i18n/i18n.tsx';
import {
  FRANCECONNECT_RESULTS,
  type FranceConnectResult,
  franceconnectMessages,
} from './franceconnect-messages.ts';

/** The start route: the button is a link to it, never a script call (the browser must navigate). */
export const FRANCECONNECT_START = '/api/v1/portal/franceconnect/login';

/** Reads a `?franceconnect=` value; anything but a known result code is ignored. */
export function franceconnectResult(value: string | null | undefined): FranceConnectResult | undefined {
  return (FRANCECONNECT_RESULTS as readonly string[]).includes(value ?? '')
    ? (value as FranceConnectResult)
    : undefined;
}

/** The FranceConnect button and the last result (nothing when the server has FranceConnect off). */
export function FranceConnectLogin({
  enabled,
  result,
}: {
  /** Whether the server offers FranceConnect (GET /api/v1/portal/franceconnect); nothing shown otherwise. */
  enabled: boolean | undefined;
  /** The `franceconnect` query value the callback sent back, if any. */
  result?: string | null;
}): ReactNode {
  const t = useT(franceconnectMessages);
  const known = franceconnectResult(result);
  if (!enabled) return null;
  return (
    <section className="fr-mb-5w" aria-labelledby="franceconnect-title">
      <h2 id="franceconnect-title" className="fr-h4">
        {t('title')}
      </h2>
      {known && (
        <Alert
          className="fr-mb-3w"
          severity={known === 'cancelled' ? 'info' : 'error'}
          title={t('resultTitle')}
          description={t(`result_${known}`)}
          small
        />
      )}
      <p>{t('intro')}</p>
      <FranceConnectButton url={FRANCECONNECT_START} />
    </section>
  );
}
