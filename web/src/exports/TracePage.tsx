/**
 * "Tracer un fichier fuité" (security officers; docs/EXPORTS.md, "Tracing a leak"): a CSV found
 * outside, whole or in part, read in the browser and sent as its lines (POST /api/v1/exports/trace,
 * fresh second factor: the step-up dialog asks for it). The answer names the export it came from,
 * its recipient, its date and the basis (canary rows, or the audited rows), lists the candidates,
 * and links to the incident opened. The file is not kept by the page beyond the request.
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { Table } from '@codegouvfr/react-dsfr/Table';
import { Upload } from '@codegouvfr/react-dsfr/Upload';
import { type FormEvent, type ReactNode, useEffect, useState } from 'react';
import { Link } from 'react-router';
import { ApiProblem, api, must } from '../api/client.ts';
import { useFormatDateTime, useT } from '../i18n/i18n.tsx';
import { traceMessages } from './messages.ts';

type Trace = Awaited<ReturnType<typeof trace>>;
const trace = (lines: string[]) => must(() => api.POST('/api/v1/exports/trace', { body: { lines } }));

/** The leak-tracing screen. */
export default function TracePage(): ReactNode {
  const t = useT(traceMessages);
  const when = useFormatDateTime();
  const [lines, setLines] = useState<string[] | undefined>();
  const [result, setResult] = useState<Trace | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    document.title = `${t('title')} — Rempart`;
  }, [t]);

  const readFile = async (file: File | undefined) => {
    setResult(undefined);
    setLines(
      file
        ? (await file.text())
            .replace(/^\uFEFF/, '')
            .split(/\r?\n/)
            .filter((l) => l !== '')
        : undefined,
    );
  };
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!lines) return;
    setBusy(true);
    setError(undefined);
    setResult(undefined);
    try {
      setResult(await trace(lines));
    } catch (problem) {
      if (problem instanceof ApiProblem && !['throttled', 'account_suspended'].includes(problem.code))
        setError(t('badFile', { message: problem.message }));
    } finally {
      setBusy(false);
    }
  };

  const named = result?.candidates.find((c) => c.exportId === result.exportId);
  return (
    <>
      <h1>{t('title')}</h1>
      <p>{t('intro')}</p>
      <form onSubmit={(e) => void submit(e)} className="fr-mb-6w">
        {error && <Alert severity="error" small description={error} className="fr-mb-3w" />}
        <Upload
          label={t('file')}
          hint={t('fileHint')}
          nativeInputProps={{
            accept: '.csv,text/csv',
            required: true,
            onChange: (e) => void readFile(e.target.files?.[0]),
          }}
        />
        <Button type="submit" disabled={busy || !lines}>
          {t('submit')}
        </Button>
      </form>
      {result && (
        <section aria-labelledby="trace-result">
          <h2 id="trace-result">{t('resultTitle')}</h2>
          {result.exportId && named ? (
            <Alert
              severity="warning"
              title={t('named', { id: result.exportId })}
              description={
                <>
                  {t('basis', { basis: t(result.basis === 'canary' ? 'basis_canary' : 'basis_rows') })}
                  {result.incidentId && (
                    <>
                      {' '}
                      <Link to={`/securite/incidents/${result.incidentId}`}>{t('incident')}</Link>
                    </>
                  )}
                </>
              }
              className="fr-mb-3w"
            />
          ) : (
            <Alert
              severity="info"
              small
              description={result.candidates.length > 0 ? t('notNamed') : t('noMatch')}
              className="fr-mb-3w"
            />
          )}
          <dl>
            {named && (
              <>
                <dt>{t('recipient')}</dt>
                <dd>{named.recipientName}</dd>
                <dt>{t('producedAt')}</dt>
                <dd>{when(named.producedAt)}</dd>
              </>
            )}
            <dt>{t('rowsRead')}</dt>
            <dd>{result.rows}</dd>
            <dt>{t('personsMatched')}</dt>
            <dd>{result.matchedPersons}</dd>
            <dt>{t('canaryRows')}</dt>
            <dd>{result.canaryRows}</dd>
          </dl>
          {result.candidates.length > 0 && (
            <Table
              caption={t('candidatesTitle')}
              headers={[
                t('colExport'),
                t('colRecipient'),
                t('colProducedAt'),
                t('colCanaries'),
                t('colRows'),
              ]}
              data={result.candidates.map((c) => [
                c.exportId,
                c.recipientName,
                when(c.producedAt),
                String(c.canaries),
                `${c.rowsMatched} / ${c.exportRows}`,
              ])}
            />
          )}
        </section>
      )}
    </>
  );
}
