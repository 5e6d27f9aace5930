/**
 * "Exports" (T3; docs/EXPORTS.md). For a counselor: the request form and their exports, with
 * "Produire le fichier" once approved and "Télécharger" while the file lasts. For a manager and the
 * DPO: "À décider" (the four-eyes decision) and the exports of their scope; for the DPO, the
 * recipients' keys. Nothing of a person is shown: an export is what was asked, by whom, for whom.
 * The file is fetched by the page and handed to the browser as `export-<id>.csv.age` through an
 * object URL: no person reaches the address bar, and the file is never kept by the page.
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { Badge } from '@codegouvfr/react-dsfr/Badge';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { Table } from '@codegouvfr/react-dsfr/Table';
import { type ReactNode, useCallback, useEffect, useState } from 'react';
import { ApiProblem, api, must } from '../api/client.ts';
import { useFormatDateTime, useT } from '../i18n/i18n.tsx';
import { useSession } from '../session.tsx';
import { Decisions } from './Decisions.tsx';
import { type ExportItem, type ExportOptions, fieldsOf, loadExports, loadOptions } from './exports.ts';
import { exportMessages } from './messages.ts';
import { RecipientKeyForm } from './RecipientKeyForm.tsx';
import { RequestForm } from './RequestForm.tsx';

const SEVERITY: Record<ExportItem['state'], 'success' | 'info' | 'warning' | 'error' | 'new'> = {
  pending: 'new',
  approved: 'info',
  rejected: 'error',
  produced: 'success',
  expired: 'warning',
};

/** Hands bytes to the browser as a download named `name` (an object URL, revoked right after). */
function saveAs(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The exports screen. */
export default function ExportsPage(): ReactNode {
  const t = useT(exportMessages);
  const when = useFormatDateTime();
  const { me } = useSession();
  const role = me?.account.role;
  const decider = role === 'org_manager' || role === 'dpo';
  const [exports, setExports] = useState<ExportItem[] | null | undefined>();
  const [options, setOptions] = useState<ExportOptions | undefined>();
  const [notice, setNotice] = useState<{ ok: boolean; text: string } | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    document.title = `${t('title')} — Rempart`;
  }, [t]);
  const reload = useCallback(() => {
    loadExports().then(
      (answer) => setExports(answer.exports),
      () => setExports(null),
    );
  }, []);
  const reloadOptions = useCallback(() => {
    loadOptions().then(setOptions, () => setOptions({ purposes: [], recipients: [] }));
  }, []);
  useEffect(reload, [reload]);
  useEffect(reloadOptions, [reloadOptions]);

  const refused = (problem: unknown): void => {
    if (!(problem instanceof ApiProblem) || ['throttled', 'account_suspended'].includes(problem.code)) return;
    const text =
      problem.reason === 'export_off_hours'
        ? t('offHours')
        : problem.reason === 'no_recipient_key'
          ? t('noKey')
          : problem.reason === 'export_too_large'
            ? t('tooLarge')
            : t('refused', { message: problem.message });
    setNotice({ ok: false, text });
  };

  const produce = async (item: ExportItem) => {
    setBusy(true);
    setNotice(undefined);
    try {
      const answer = await must(() =>
        api.POST('/api/v1/exports/{id}/produce', {
          params: { path: { id: item.id } },
          body: { purpose: item.purpose },
        }),
      );
      setNotice({
        ok: true,
        text: t('produced', { rows: answer.export.rowCount ?? 0, until: when(answer.export.expiresAt) }),
      });
    } catch (problem) {
      refused(problem);
    } finally {
      setBusy(false);
      reload();
    }
  };

  const download = async (item: ExportItem) => {
    setBusy(true);
    setNotice(undefined);
    const name = `export-${item.id}.csv.age`;
    try {
      const file = await must(() =>
        api.GET('/api/v1/exports/{id}/file', { params: { path: { id: item.id } }, parseAs: 'blob' }),
      );
      saveAs(file as unknown as Blob, name);
      setNotice({ ok: true, text: t('downloaded', { name }) });
    } catch (problem) {
      refused(problem);
      reload();
    } finally {
      setBusy(false);
    }
  };

  const action = (item: ExportItem): ReactNode => {
    const date = when(item.requestedAt);
    if (item.state === 'approved' && item.requestedBy === me?.account.id)
      return (
        <Button
          size="small"
          disabled={busy}
          title={t('produceLabel', { date })}
          nativeButtonProps={{ 'aria-label': t('produceLabel', { date }) }}
          onClick={() => void produce(item)}
        >
          {t('produce')}
        </Button>
      );
    if (item.state === 'produced' && (item.requestedBy === me?.account.id || role === 'dpo'))
      return (
        <Button
          size="small"
          priority="secondary"
          iconId="fr-icon-download-line"
          disabled={busy}
          title={t('downloadLabel', { date })}
          nativeButtonProps={{ 'aria-label': t('downloadLabel', { date }) }}
          onClick={() => void download(item)}
        >
          {t('download')}
        </Button>
      );
    return '—';
  };

  const headers = [
    t('colRequestedAt'),
    t('colPurpose'),
    t('colFields'),
    ...(decider ? [t('colRequester')] : []),
    t('colRecipient'),
    t('colState'),
    t('colAction'),
  ];
  const rows = (exports ?? []).map((item) => [
    when(item.requestedAt),
    t(`purpose_${item.purpose}`),
    fieldsOf(t, item.fields),
    ...(decider ? [`${item.requesterName} (${item.requesterLogin})`] : []),
    item.recipientName,
    <span key="s">
      <Badge severity={SEVERITY[item.state]} small noIcon>
        {t(`state_${item.state}`)}
      </Badge>
      {item.state === 'produced' && item.rowCount !== null && (
        <>
          <br />
          {t('rows', { rows: item.rowCount })}, {t('until', { date: when(item.expiresAt) })}
        </>
      )}
    </span>,
    action(item),
  ]);
  const listTitle = t(decider ? 'allTitle' : 'mineTitle');

  return (
    <>
      <h1>{t('title')}</h1>
      <p>{t(decider ? 'introDecider' : 'introRequester')}</p>
      {notice && (
        <Alert
          severity={notice.ok ? 'success' : 'error'}
          small
          description={notice.text}
          className="fr-mb-3w"
        />
      )}
      {exports === undefined && <p>{t('loading')}</p>}
      {exports === null && <Alert severity="error" small description={t('failed')} className="fr-mb-3w" />}
      {decider && exports && me && <Decisions exports={exports} me={me.account.id} onDecided={reload} />}
      {!decider && options && <RequestForm options={options} onRequested={reload} />}
      {exports && (
        <section aria-labelledby="list-title" className="fr-mb-6w">
          <h2 id="list-title">{listTitle}</h2>
          {exports.length === 0 ? (
            <p>{t('none')}</p>
          ) : (
            <Table caption={listTitle} noCaption headers={headers} data={rows} />
          )}
        </section>
      )}
      {role === 'dpo' && options && (
        <RecipientKeyForm recipients={options.recipients} onSaved={reloadOptions} />
      )}
    </>
  );
}
