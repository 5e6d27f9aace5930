/**
 * Who accessed the open record (POST /api/v1/persons/{id}/access-history), for the DPO answering a
 * data-subject request (GDPR article 15): a national read with the justification given at the search,
 * itself on record. Shown under the record; the person stays in memory (staff/selection.tsx).
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { Table } from '@codegouvfr/react-dsfr/Table';
import { type ReactNode, useState } from 'react';
import { ApiProblem, api, must } from '../api/client.ts';
import type { paths } from '../api/schema';
import { useFormatDateTime, useT } from '../i18n/i18n.tsx';
import type { Role } from '../session.tsx';
import { staffMessages } from '../staff/messages.ts';
import { searchMessages } from '../staff/search-messages.ts';
import type { Selection } from '../staff/selection.tsx';
import { dpoMessages } from './messages.ts';

type Entry =
  paths['/api/v1/persons/{id}/access-history']['post']['responses'][200]['content']['application/json']['accessHistory'][number];

/** The access-history section of the record screen. */
export default function AccessHistory({ selection }: { selection: Selection }): ReactNode {
  const t = useT(dpoMessages);
  const ts = useT(staffMessages);
  const tsearch = useT(searchMessages);
  const when = useFormatDateTime();
  const [entries, setEntries] = useState<Entry[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const show = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const answer = await must(() =>
        api.POST('/api/v1/persons/{id}/access-history', {
          params: { path: { id: selection.id } },
          body: { purpose: selection.purpose, justification: selection.justification ?? '' },
        }),
      );
      setEntries(answer.accessHistory);
    } catch (problem) {
      if (problem instanceof ApiProblem && !['throttled', 'account_suspended'].includes(problem.code)) {
        setError(t('error', { message: problem.message }));
      }
    } finally {
      setBusy(false);
    }
  };
  const actionLabel = (action: string) => {
    const key = `action_${action.replace(/\./g, '_')}`;
    return key in dpoMessages.fr ? t(key as keyof typeof dpoMessages.fr) : action;
  };
  const fieldLabel = (field: string) => {
    const key = `col_${field}`;
    return key in searchMessages.fr ? tsearch(key as keyof typeof searchMessages.fr) : field;
  };

  return (
    <section aria-labelledby="history-title" className="fr-mt-6w">
      <h2 id="history-title">{t('historyTitle')}</h2>
      <p>{t('historyIntro')}</p>
      {error && <Alert severity="error" small description={error} className="fr-mb-3w" />}
      {entries === undefined ? (
        <Button iconId="fr-icon-eye-line" priority="secondary" disabled={busy} onClick={() => void show()}>
          {t('showHistory')}
        </Button>
      ) : entries.length === 0 ? (
        <p>{t('noHistory')}</p>
      ) : (
        <Table
          caption={t('historyTitle')}
          noCaption
          headers={[
            t('colAt'),
            t('colOrganisation'),
            t('colRole'),
            t('colPurpose'),
            t('colAction'),
            t('colFields'),
          ]}
          data={entries.map((e) => [
            when(e.at),
            e.organisationName ?? '—',
            e.role ? ts(`role_${e.role as Role}`) : '—',
            e.purpose && `purpose_${e.purpose}` in searchMessages.fr
              ? tsearch(`purpose_${e.purpose}` as keyof typeof searchMessages.fr)
              : (e.purpose ?? '—'),
            actionLabel(e.action),
            e.fields.map(fieldLabel).join(', ') || '—',
          ])}
        />
      )}
    </section>
  );
}
