/**
 * A manager's pending approvals in one screen: the recovery cases of the organisation (approve with
 * the attestation of how the owner's identity was verified, or reject: POST
 * /api/v1/recovery-cases/{id}/approve|reject) and the provisioning requests (accounts, roles,
 * caseloads: POST /api/v1/provisioning-requests/{id}/approve|reject). Deciding needs a recent second
 * factor: the step-up dialog asks for it when the server does. The server refuses a request's own
 * author and anyone about their own account (T8); the screen shows that refusal as it comes.
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { Badge } from '@codegouvfr/react-dsfr/Badge';
import { ButtonsGroup } from '@codegouvfr/react-dsfr/ButtonsGroup';
import { RadioButtons } from '@codegouvfr/react-dsfr/RadioButtons';
import { Table } from '@codegouvfr/react-dsfr/Table';
import { type ReactNode, useCallback, useEffect, useState } from 'react';
import { ApiProblem, api, must } from '../api/client.ts';
import { useFormatDateTime, useT } from '../i18n/i18n.tsx';
import { CaseStatus } from '../recovery/CaseStatus.tsx';
import { type Role, useSession } from '../session.tsx';
import { staffMessages } from '../staff/messages.ts';
import { type AccountRow, loadAccounts } from './accounts.ts';
import { managerMessages } from './messages.ts';

type Case = Awaited<ReturnType<typeof loadCases>>['cases'][number];
type Request = Awaited<ReturnType<typeof loadRequests>>['requests'][number];
const loadCases = () => must(api.GET('/api/v1/recovery-cases'));
const loadRequests = () => must(api.GET('/api/v1/provisioning-requests'));
type Outcome = { ok: boolean; text: string };

/** The approvals screen. */
export default function ApprovalsPage(): ReactNode {
  const t = useT(managerMessages);
  const ts = useT(staffMessages);
  const when = useFormatDateTime();
  const { me } = useSession();
  const [cases, setCases] = useState<Case[] | undefined>();
  const [requests, setRequests] = useState<Request[] | undefined>();
  const [accounts, setAccounts] = useState<AccountRow[]>([]);
  const [attestations, setAttestations] = useState<Record<string, 'in_person' | 'video'>>({});
  const [outcomes, setOutcomes] = useState<Record<string, Outcome>>({});
  const [busy, setBusy] = useState(false);

  const reload = useCallback(() => {
    // Recovery cases are the organisation managers' only; an administrator sees requests alone.
    loadCases().then(
      (answer) => setCases(answer.cases),
      () => setCases([]),
    );
    loadRequests().then(
      (answer) => setRequests(answer.requests),
      () => setRequests([]),
    );
    loadAccounts().then(
      (answer) => setAccounts(answer.accounts),
      () => setAccounts([]),
    );
  }, []);
  useEffect(() => {
    document.title = `${t('approvalsTitle')} — Rempart`;
  }, [t]);
  useEffect(reload, [reload]);

  const decide = async (key: string, send: () => Promise<Outcome>) => {
    setBusy(true);
    try {
      const outcome = await send();
      setOutcomes((all) => ({ ...all, [key]: outcome }));
      reload();
    } catch (problem) {
      if (problem instanceof ApiProblem && !['throttled', 'account_suspended'].includes(problem.code)) {
        setOutcomes((all) => ({
          ...all,
          // The server's refusals of the two-person rule (T8) are said in the screen's language.
          [key]: {
            ok: false,
            text: problem.code === 'forbidden' ? t('notYours') : t('failed', { message: problem.message }),
          },
        }));
      }
    } finally {
      setBusy(false);
    }
  };
  const decideCase = (c: Case, approve: boolean) =>
    decide(c.id, async () => {
      if (!approve) {
        await must(() => api.POST('/api/v1/recovery-cases/{id}/reject', { params: { path: { id: c.id } } }));
        return { ok: true, text: t('caseRejected') };
      }
      const answer = await must(() =>
        api.POST('/api/v1/recovery-cases/{id}/approve', {
          params: { path: { id: c.id } },
          body: { attestation: attestations[c.id] ?? 'in_person' },
        }),
      );
      return { ok: true, text: t('caseApproved', { at: when(answer.notBefore) }) };
    });
  const decideRequest = (r: Request, approve: boolean) =>
    decide(r.id, async () => {
      const path = approve
        ? ('/api/v1/provisioning-requests/{id}/approve' as const)
        : ('/api/v1/provisioning-requests/{id}/reject' as const);
      await must(() => api.POST(path, { params: { path: { id: r.id } } }));
      return { ok: true, text: approve ? t('requestApproved') : t('requestRejected') };
    });

  const loginOf = (id: string | undefined) =>
    id === undefined ? '' : (accounts.find((a) => a.id === id)?.login ?? t('unknownAccount', { id }));
  const describe = (r: Request): string => {
    const p = r.payload as { login?: string; role?: Role; personIds?: string[] };
    if (r.kind === 'create_account') return t('kind_create_account', { login: p.login ?? '' });
    if (r.kind === 'grant_role')
      return t('kind_grant_role', {
        role: p.role ? ts(`role_${p.role}`) : '',
        login: loginOf(r.targetAccountId ?? undefined),
      });
    return t('kind_widen_caseload', { count: p.personIds?.length ?? 0 });
  };
  const outcome = (key: string) => {
    const o = outcomes[key];
    return o ? (
      <Alert severity={o.ok ? 'success' : 'error'} small description={o.text} className="fr-mb-2w" />
    ) : null;
  };
  const pendingCases = (cases ?? []).filter((c) => c.status === 'open');
  const pendingRequests = (requests ?? []).filter((r) => r.status === 'pending');
  const decidedCases = (cases ?? []).filter((c) => c.status !== 'open' && outcomes[c.id]);
  const decidedRequests = (requests ?? []).filter((r) => r.status !== 'pending').slice(0, 20);

  return (
    <>
      <h1>{t('approvalsTitle')}</h1>
      <p>{t('approvalsIntro')}</p>

      {me?.account.role === 'org_manager' && (
        <section aria-labelledby="recovery-title" className="fr-mb-6w">
          <h2 id="recovery-title">{t('recoveryTitle')}</h2>
          <p>{t('recoveryIntro')}</p>
          {decidedCases.map((c) => (
            <div key={c.id}>{outcome(c.id)}</div>
          ))}
          {cases && pendingCases.length === 0 && <p>{t('noPendingCase')}</p>}
          {pendingCases.map((c) => (
            <section key={c.id} aria-labelledby={`case-${c.id}`} className="fr-card fr-p-3w fr-mb-3w">
              <h3 id={`case-${c.id}`} className="fr-h5">
                {t('caseOf', { login: c.login })}
              </h3>
              <p>{t('caseOpened', { at: when(c.openedAt) })}</p>
              {outcome(c.id)}
              <RadioButtons
                legend={t('attestation', { login: c.login })}
                name={`attestation-${c.id}`}
                options={(['in_person', 'video'] as const).map((value) => ({
                  label: value === 'in_person' ? t('inPerson') : t('video'),
                  nativeInputProps: {
                    value,
                    checked: (attestations[c.id] ?? 'in_person') === value,
                    onChange: () => setAttestations((all) => ({ ...all, [c.id]: value })),
                  },
                }))}
              />
              <ButtonsGroup
                inlineLayoutWhen="md and up"
                buttonsIconPosition="left"
                buttons={[
                  {
                    children: t('approve'),
                    iconId: 'fr-icon-check-line',
                    disabled: busy,
                    onClick: () => void decideCase(c, true),
                  },
                  {
                    children: t('reject'),
                    iconId: 'fr-icon-close-line',
                    priority: 'secondary',
                    disabled: busy,
                    onClick: () => void decideCase(c, false),
                  },
                ]}
              />
            </section>
          ))}
          {cases?.some((c) => c.status !== 'open') && (
            <Table
              caption={t('decidedTitle')}
              headers={[t('colLogin'), t('colDate'), t('colStatus')]}
              data={cases
                .filter((c) => c.status !== 'open')
                .slice(0, 20)
                .map((c) => [c.login, when(c.openedAt), <CaseStatus key="s" status={c.status} />])}
            />
          )}
        </section>
      )}

      <section aria-labelledby="provisioning-title">
        <h2 id="provisioning-title">{t('provisioningTitle')}</h2>
        {decidedRequests
          .filter((r) => outcomes[r.id])
          .map((r) => (
            <div key={r.id}>{outcome(r.id)}</div>
          ))}
        {requests && pendingRequests.length === 0 && <p>{t('noPendingRequest')}</p>}
        {pendingRequests.map((r) => {
          const mine = r.requestedBy === me?.account.id;
          return (
            <section key={r.id} aria-labelledby={`request-${r.id}`} className="fr-card fr-p-3w fr-mb-3w">
              <h3 id={`request-${r.id}`} className="fr-h5">
                {describe(r)}
              </h3>
              <p>
                {t('requestedBy', { at: when(r.requestedAt), who: mine ? t('you') : loginOf(r.requestedBy) })}{' '}
                {mine && (
                  <Badge severity="info" small noIcon>
                    {t('yours')}
                  </Badge>
                )}
              </p>
              {outcome(r.id)}
              <ButtonsGroup
                inlineLayoutWhen="md and up"
                buttonsIconPosition="left"
                buttons={[
                  {
                    children: t('approve'),
                    iconId: 'fr-icon-check-line',
                    disabled: busy,
                    onClick: () => void decideRequest(r, true),
                  },
                  {
                    children: t('reject'),
                    iconId: 'fr-icon-close-line',
                    priority: 'secondary',
                    disabled: busy,
                    onClick: () => void decideRequest(r, false),
                  },
                ]}
              />
            </section>
          );
        })}
        {decidedRequests.length > 0 && (
          <Table
            caption={t('decidedTitle')}
            headers={[t('colWhat'), t('colDate'), t('colStatus')]}
            data={decidedRequests.map((r) => [
              describe(r),
              when(r.requestedAt),
              <Badge key="s" severity={r.status === 'approved' ? 'success' : 'error'} small noIcon>
                {r.status === 'approved' ? t('requestApproved') : t('requestRejected')}
              </Badge>,
            ])}
          />
        )}
      </section>
    </>
  );
}
