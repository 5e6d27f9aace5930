/**
 * The review queue (GET /api/v1/guard/alerts): the open alerts; one examined at a time with its
 * evidence and the account's timeline; then the decision — reinstate with a note, or confirm a
 * compromise, which opens the incident. Deciding needs a fresh second factor: `must(() => ...)`
 * lets the step-up dialog ask for it and sends the decision again.
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { ButtonsGroup } from '@codegouvfr/react-dsfr/ButtonsGroup';
import { Input } from '@codegouvfr/react-dsfr/Input';
import { Table } from '@codegouvfr/react-dsfr/Table';
import { type ReactNode, useCallback, useEffect, useState } from 'react';
import { useLocation, useNavigate } from 'react-router';
import { ApiProblem, api, must } from '../api/client.ts';
import { useFormatDateTime, useT } from '../i18n/i18n.tsx';
import { AccountStatus } from './DashboardPage.tsx';
import { Evidence, type EvidenceData } from './Evidence.tsx';
import { securityMessages } from './messages.ts';

type Alerts = Awaited<ReturnType<typeof loadAlerts>>['alerts'];
const loadAlerts = () => must(api.GET('/api/v1/guard/alerts', { params: { query: { status: 'open' } } }));

/** The review queue screen. */
export function ReviewPage(): ReactNode {
  const t = useT(securityMessages);
  const when = useFormatDateTime();
  const location = useLocation();
  const [alerts, setAlerts] = useState<Alerts | undefined>();
  const [selected, setSelected] = useState<string | undefined>(
    (location.state as { alertId?: string } | null)?.alertId,
  );
  const [done, setDone] = useState<string | undefined>();

  const reload = useCallback(() => {
    loadAlerts().then(
      (answer) => setAlerts(answer.alerts),
      () => setAlerts([]),
    );
  }, []);
  useEffect(() => {
    document.title = `${t('reviewTitle')} — Rempart`;
  }, [t]);
  useEffect(reload, [reload]);

  if (selected) {
    return (
      <AlertReview
        id={selected}
        onBack={(message) => {
          setSelected(undefined);
          setDone(message);
          reload();
        }}
      />
    );
  }
  return (
    <>
      <h1>{t('reviewTitle')}</h1>
      <p>{t('reviewIntro')}</p>
      {done && <Alert severity="success" small description={done} className="fr-mb-3w" />}
      {alerts &&
        (alerts.length === 0 ? (
          <p>{t('noAlerts')}</p>
        ) : (
          <Table
            caption={t('alertsCaption')}
            headers={[
              t('raisedAt'),
              t('account'),
              t('organisation'),
              t('response'),
              t('signals'),
              t('status'),
              '',
            ]}
            data={alerts.map((a) => [
              when(a.raisedAt),
              a.login,
              a.organisationCode,
              t(`response_${a.response}`),
              a.signals.map((s) => s.name).join(', '),
              <AccountStatus key="status" status={a.accountStatus} />,
              <Button
                key="examine"
                size="small"
                title={t('examineAlert', { login: a.login })}
                onClick={() => setSelected(a.id)}
              >
                {t('examine')}
              </Button>,
            ])}
          />
        ))}
    </>
  );
}

/** One alert: its evidence and the decision. */
function AlertReview({ id, onBack }: { id: string; onBack: (message?: string) => void }): ReactNode {
  const t = useT(securityMessages);
  const when = useFormatDateTime();
  const navigate = useNavigate();
  const [evidence, setEvidence] = useState<EvidenceData | undefined>();
  const [note, setNote] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    must(api.GET('/api/v1/guard/alerts/{id}', { params: { path: { id } } })).then(setEvidence, (e: unknown) =>
      setError(e instanceof Error ? e.message : String(e)),
    );
  }, [id]);

  const decide = async (kind: 'reinstate' | 'confirm') => {
    setBusy(true);
    setError(undefined);
    try {
      if (kind === 'reinstate') {
        const answer = await must(() =>
          api.POST('/api/v1/guard/alerts/{id}/reinstate', {
            params: { path: { id } },
            body: { note: note.trim() },
          }),
        );
        onBack(t('reinstated', { status: answer.accountStatus }));
      } else {
        const answer = await must(() =>
          api.POST('/api/v1/guard/alerts/{id}/confirm', {
            params: { path: { id } },
            body: { note: note.trim() },
          }),
        );
        void navigate(`/securite/incidents/${answer.incidentId}`);
      }
    } catch (e) {
      setError(
        e instanceof ApiProblem && e.field ? `${e.field} : ${e.message}` : String((e as Error).message),
      );
    } finally {
      setBusy(false);
    }
  };

  const alert = evidence?.alert;
  return (
    <>
      <h1>{alert ? t('evidenceTitle', { login: alert.login }) : t('reviewTitle')}</h1>
      <Button
        priority="tertiary"
        iconId="fr-icon-arrow-left-line"
        onClick={() => onBack()}
        className="fr-mb-3w"
      >
        {t('back')}
      </Button>
      {error && <Alert severity="error" small description={error} className="fr-mb-3w" />}
      {alert && evidence && (
        <>
          <p>
            {t('evidenceIntro', {
              organisation: alert.organisationCode,
              role: alert.role,
              at: when(alert.raisedAt),
            })}{' '}
            <AccountStatus status={alert.accountStatus} />
          </p>
          <Evidence evidence={evidence} />
          <h2>{t('decideTitle')}</h2>
          <Input
            label={t('note')}
            hintText={t('noteHint')}
            textArea
            nativeTextAreaProps={{ value: note, onChange: (e) => setNote(e.target.value), maxLength: 2000 }}
          />
          <ButtonsGroup
            inlineLayoutWhen="md and up"
            buttons={[
              {
                children: t('reinstate'),
                priority: 'secondary',
                disabled: busy,
                onClick: () => void decide('reinstate'),
              },
              { children: t('confirm'), disabled: busy, onClick: () => void decide('confirm') },
            ]}
          />
        </>
      )}
    </>
  );
}
