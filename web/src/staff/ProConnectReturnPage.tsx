/**
 * Where ProConnect's login ends (/connexion/proconnect?result=CODE, the only thing in the address).
 * On `ok` the server opened a session; its CSRF token is taken once (GET /api/v1/auth/proconnect/session),
 * then the agent goes home. Every other result is said in words, with the way forward.
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { type ReactNode, useEffect, useRef, useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { api, setCsrfToken } from '../api/client.ts';
import { useT } from '../i18n/i18n.tsx';
import { useSession } from '../session.tsx';
import { proconnectMessages } from './proconnect-messages.ts';

const RESULTS = [
  'ok',
  'linked',
  'not_linked',
  'already_linked',
  'mfa_required',
  'refused',
  'cancelled',
  'failed',
  'unavailable',
] as const;
type Result = (typeof RESULTS)[number];

/** The ProConnect return page. */
export function ProConnectReturnPage(): ReactNode {
  const t = useT(proconnectMessages);
  const navigate = useNavigate();
  const { refresh } = useSession();
  const [params] = useSearchParams();
  const raw = params.get('result');
  const result: Result = RESULTS.includes(raw as Result) ? (raw as Result) : 'failed';
  const [shown, setShown] = useState<Result | undefined>(result === 'ok' ? undefined : result);
  const taken = useRef(false);

  useEffect(() => {
    document.title = `${t('returnTitle')} — Rempart`;
  }, [t]);
  useEffect(() => {
    if (result !== 'ok' || taken.current) return;
    taken.current = true;
    api.GET('/api/v1/auth/proconnect/session').then(
      async ({ data }) => {
        if (!data) return setShown('failed');
        setCsrfToken(data.csrfToken);
        await refresh();
        await navigate('/', { replace: true });
      },
      () => setShown('failed'),
    );
  }, [result, refresh, navigate]);

  return (
    <div className="fr-col-12 fr-col-md-8">
      <h1>{t('returnTitle')}</h1>
      {shown && (
        <>
          <Alert
            severity={shown === 'linked' ? 'success' : shown === 'cancelled' ? 'info' : 'error'}
            small
            description={t(`result_${shown}`)}
            className="fr-mb-3w"
          />
          <Button linkProps={{ to: shown === 'linked' ? '/mes-sessions' : '/connexion' }}>
            {t('backToLogin')}
          </Button>
        </>
      )}
    </div>
  );
}
