/**
 * The three provisioning requests a manager files (POST /api/v1/provisioning-requests): an account,
 * a role, a caseload. Each takes effect only when another person approves it (docs/DESIGN.md T8);
 * the server checks everything again (roles the organisation may hold, persons of the agency).
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { Input } from '@codegouvfr/react-dsfr/Input';
import { Select } from '@codegouvfr/react-dsfr/Select';
import { type FormEvent, type ReactNode, useState } from 'react';
import { ApiProblem, api, must } from '../api/client.ts';
import type { paths } from '../api/schema';
import { useT } from '../i18n/i18n.tsx';
import { ROLES, type Role } from '../session.tsx';
import { staffMessages } from '../staff/messages.ts';
import type { AccountRow } from './accounts.ts';
import { managerMessages } from './messages.ts';

type RequestBody =
  paths['/api/v1/provisioning-requests']['post']['requestBody']['content']['application/json'];

/** Sends a request; reports the outcome. */
function useFiler(onFiled: () => void) {
  const t = useT(managerMessages);
  const [result, setResult] = useState<{ ok: boolean; text: string; form: string } | undefined>();
  const [busy, setBusy] = useState(false);
  const file = async (form: string, body: RequestBody, reset: () => void) => {
    setBusy(true);
    setResult(undefined);
    try {
      await must(() => api.POST('/api/v1/provisioning-requests', { body }));
      setResult({ ok: true, text: t('requested'), form });
      reset();
      onFiled();
    } catch (problem) {
      if (problem instanceof ApiProblem && !['throttled', 'account_suspended'].includes(problem.code)) {
        setResult({ ok: false, text: t('failed', { message: problem.message }), form });
      }
    } finally {
      setBusy(false);
    }
  };
  const outcome = (form: string) =>
    result?.form === form ? (
      <Alert
        severity={result.ok ? 'success' : 'error'}
        small
        description={result.text}
        className="fr-mb-3w"
      />
    ) : null;
  return { file, busy, outcome };
}

/** The request forms; `accounts` are those the role change may name; `onFiled` after a success. */
export function RequestForms({
  accounts,
  meId,
  agencyManager,
  onFiled,
}: {
  accounts: AccountRow[];
  meId: string;
  agencyManager: boolean;
  onFiled: () => void;
}): ReactNode {
  const t = useT(managerMessages);
  const ts = useT(staffMessages);
  const { file, busy, outcome } = useFiler(onFiled);
  const [account, setAccount] = useState({ login: '', displayName: '', email: '', role: '' });
  const [grant, setGrant] = useState({ accountId: '', role: '' });
  const [caseload, setCaseload] = useState({ partner: '', persons: '' });
  const roleOptions = [
    <option key="" value="" disabled>
      {t('choose')}
    </option>,
    ...ROLES.map((role) => (
      <option key={role} value={role}>
        {ts(`role_${role}`)}
      </option>
    )),
  ];

  const submitAccount = (event: FormEvent) => {
    event.preventDefault();
    void file(
      'account',
      {
        kind: 'create_account',
        login: account.login.trim(),
        displayName: account.displayName.trim(),
        email: account.email.trim(),
        role: account.role as Role,
      },
      () => setAccount({ login: '', displayName: '', email: '', role: '' }),
    );
  };
  const submitGrant = (event: FormEvent) => {
    event.preventDefault();
    void file('role', { kind: 'grant_role', accountId: grant.accountId, role: grant.role as Role }, () =>
      setGrant({ accountId: '', role: '' }),
    );
  };
  const submitCaseload = (event: FormEvent) => {
    event.preventDefault();
    const personIds = caseload.persons
      .split(/\s+/)
      .map((id) => id.trim())
      .filter(Boolean);
    void file(
      'caseload',
      { kind: 'widen_caseload', partnerOrganisationId: caseload.partner.trim(), personIds },
      () => setCaseload({ partner: '', persons: '' }),
    );
  };

  return (
    <>
      <form onSubmit={submitAccount} className="fr-mb-5w">
        <h2 className="fr-h4">{t('requestAccountTitle')}</h2>
        {outcome('account')}
        <div className="fr-grid-row fr-grid-row--gutters">
          <Input
            className="fr-col-12 fr-col-md-6"
            label={t('login')}
            hintText={t('loginHint')}
            nativeInputProps={{
              value: account.login,
              onChange: (e) => setAccount({ ...account, login: e.target.value }),
              required: true,
              maxLength: 64,
              autoComplete: 'off',
            }}
          />
          <Input
            className="fr-col-12 fr-col-md-6"
            label={t('displayName')}
            nativeInputProps={{
              value: account.displayName,
              onChange: (e) => setAccount({ ...account, displayName: e.target.value }),
              required: true,
              maxLength: 100,
              autoComplete: 'off',
            }}
          />
          <Input
            className="fr-col-12 fr-col-md-6"
            label={t('email')}
            hintText={t('emailHint')}
            nativeInputProps={{
              type: 'email',
              value: account.email,
              onChange: (e) => setAccount({ ...account, email: e.target.value }),
              required: true,
              maxLength: 254,
              autoComplete: 'off',
            }}
          />
          <Select
            className="fr-col-12 fr-col-md-6"
            label={t('role')}
            nativeSelectProps={{
              value: account.role,
              onChange: (e) => setAccount({ ...account, role: e.target.value }),
              required: true,
            }}
          >
            {roleOptions}
          </Select>
        </div>
        <Button type="submit" iconId="fr-icon-add-line" disabled={busy}>
          {t('requestAccount')}
        </Button>
      </form>
      <form onSubmit={submitGrant} className="fr-mb-5w">
        <h2 className="fr-h4">{t('requestRoleTitle')}</h2>
        {outcome('role')}
        <div className="fr-grid-row fr-grid-row--gutters">
          <Select
            className="fr-col-12 fr-col-md-6"
            label={t('account')}
            nativeSelectProps={{
              value: grant.accountId,
              onChange: (e) => setGrant({ ...grant, accountId: e.target.value }),
              required: true,
            }}
          >
            <option value="" disabled>
              {t('choose')}
            </option>
            {accounts
              .filter((a) => a.id !== meId)
              .map((a) => (
                <option key={a.id} value={a.id}>
                  {a.login} ({ts(`role_${a.role as Role}`)})
                </option>
              ))}
          </Select>
          <Select
            className="fr-col-12 fr-col-md-6"
            label={t('newRole')}
            nativeSelectProps={{
              value: grant.role,
              onChange: (e) => setGrant({ ...grant, role: e.target.value }),
              required: true,
            }}
          >
            {roleOptions}
          </Select>
        </div>
        <Button type="submit" priority="secondary" disabled={busy}>
          {t('requestRole')}
        </Button>
      </form>
      {agencyManager && (
        <form onSubmit={submitCaseload} className="fr-mb-5w">
          <h2 className="fr-h4">{t('requestCaseloadTitle')}</h2>
          <p>{t('caseloadIntro')}</p>
          {outcome('caseload')}
          <Input
            label={t('partnerId')}
            nativeInputProps={{
              value: caseload.partner,
              onChange: (e) => setCaseload({ ...caseload, partner: e.target.value }),
              required: true,
              maxLength: 36,
              autoComplete: 'off',
            }}
          />
          <Input
            label={t('personIds')}
            hintText={t('personIdsHint')}
            textArea
            nativeTextAreaProps={{
              value: caseload.persons,
              onChange: (e) => setCaseload({ ...caseload, persons: e.target.value }),
              required: true,
              rows: 4,
            }}
          />
          <Button type="submit" priority="secondary" disabled={busy}>
            {t('requestCaseload')}
          </Button>
        </form>
      )}
    </>
  );
}
