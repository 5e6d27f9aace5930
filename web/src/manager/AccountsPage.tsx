/**
 * A manager's accounts (GET /api/v1/accounts: their organisation's; an administrator's: all) and
 * the requests they may file about them (RequestForms), approved by another person.
 */
import { Badge } from '@codegouvfr/react-dsfr/Badge';
import { Table } from '@codegouvfr/react-dsfr/Table';
import { type ReactNode, useCallback, useEffect, useState } from 'react';
import { useT } from '../i18n/i18n.tsx';
import { type Role, useSession } from '../session.tsx';
import { staffMessages } from '../staff/messages.ts';
import { type AccountRow, loadAccounts } from './accounts.ts';
import { managerMessages } from './messages.ts';
import { RequestForms } from './RequestForms.tsx';

const STATUS_SEVERITY: Record<string, 'success' | 'info' | 'warning' | 'error' | 'new'> = {
  active: 'success',
  pending_enrolment: 'new',
  probation: 'info',
  locked: 'warning',
  suspended: 'error',
  disabled: 'error',
};

/** The accounts screen. */
export default function AccountsPage(): ReactNode {
  const t = useT(managerMessages);
  const ts = useT(staffMessages);
  const { me } = useSession();
  const [accounts, setAccounts] = useState<AccountRow[] | undefined>();
  const reload = useCallback(() => {
    loadAccounts().then(
      (answer) => setAccounts(answer.accounts),
      () => setAccounts([]),
    );
  }, []);
  useEffect(() => {
    document.title = `${t('accountsTitle')} — Rempart`;
  }, [t]);
  useEffect(reload, [reload]);

  return (
    <>
      <h1>{t('accountsTitle')}</h1>
      <p>{t('accountsIntro')}</p>
      {accounts && (
        <Table
          caption={t('accountsTitle')}
          noCaption
          className="fr-mb-5w"
          headers={[t('colLogin'), t('colName'), t('colRole'), t('colStatus')]}
          data={accounts.map((a) => [
            a.login,
            a.displayName,
            ts(`role_${a.role as Role}`),
            <Badge key="s" severity={STATUS_SEVERITY[a.status] ?? 'info'} small noIcon>
              {a.status in STATUS_SEVERITY ? t(`status_${a.status}` as never) : a.status}
            </Badge>,
          ])}
        />
      )}
      {me && (
        <RequestForms
          accounts={accounts ?? []}
          meId={me.account.id}
          agencyManager={me.account.role === 'org_manager'}
          onFiled={reload}
        />
      )}
    </>
  );
}
