/**
 * The helpdesk opens a recovery case (POST /api/v1/recovery-cases) and follows the cases it opened
 * (GET /api/v1/recovery-cases). Nothing here sets a password or removes a factor (docs/DESIGN.md T1:
 * a helpdesk talked into a reset is the classic takeover); the manager decides, the owner completes.
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { Input } from '@codegouvfr/react-dsfr/Input';
import { Table } from '@codegouvfr/react-dsfr/Table';
import { type FormEvent, type ReactNode, useCallback, useEffect, useState } from 'react';
import { ApiProblem, api, must } from '../api/client.ts';
import { useFormatDateTime, useT } from '../i18n/i18n.tsx';
import { CaseStatus } from '../recovery/CaseStatus.tsx';
import { helpdeskMessages } from './messages.ts';

type Cases = Awaited<ReturnType<typeof loadCases>>['cases'];
const loadCases = () => must(api.GET('/api/v1/recovery-cases'));

/** The helpdesk's recovery screen. */
export default function HelpdeskPage(): ReactNode {
  const t = useT(helpdeskMessages);
  const when = useFormatDateTime();
  const [login, setLogin] = useState('');
  const [cases, setCases] = useState<Cases | undefined>();
  const [result, setResult] = useState<{ ok: boolean; text: string } | undefined>();
  const [busy, setBusy] = useState(false);

  const reload = useCallback(() => {
    loadCases().then(
      (answer) => setCases(answer.cases),
      () => setCases([]),
    );
  }, []);
  useEffect(() => {
    document.title = `${t('title')} — Rempart`;
  }, [t]);
  useEffect(reload, [reload]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setResult(undefined);
    const wanted = login.trim();
    try {
      await must(() => api.POST('/api/v1/recovery-cases', { body: { login: wanted } }));
      setResult({ ok: true, text: t('opened', { login: wanted }) });
      setLogin('');
      reload();
    } catch (problem) {
      if (problem instanceof ApiProblem)
        setResult({ ok: false, text: t('failed', { message: problem.message }) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <h1>{t('title')}</h1>
      <p>{t('intro')}</p>
      <form onSubmit={submit} className="fr-mb-5w">
        <h2 className="fr-h4">{t('openTitle')}</h2>
        {result && (
          <Alert
            severity={result.ok ? 'success' : 'error'}
            small
            description={result.text}
            className="fr-mb-3w"
          />
        )}
        <Input
          label={t('login')}
          hintText={t('loginHint')}
          nativeInputProps={{
            value: login,
            onChange: (e) => setLogin(e.target.value),
            required: true,
            maxLength: 64,
            autoComplete: 'off',
          }}
        />
        <Button type="submit" iconId="fr-icon-user-setting-line" disabled={busy}>
          {t('open')}
        </Button>
      </form>
      <h2 className="fr-h4">{t('casesTitle')}</h2>
      {cases && cases.length === 0 && <p>{t('noCase')}</p>}
      {cases && cases.length > 0 && (
        <Table
          caption={t('casesTitle')}
          noCaption
          headers={[t('colLogin'), t('colOpened'), t('colStatus'), t('colNotBefore')]}
          data={cases.map((c) => [
            c.login,
            when(c.openedAt),
            <CaseStatus key="s" status={c.status} />,
            when(c.notBefore),
          ])}
        />
      )}
    </>
  );
}
