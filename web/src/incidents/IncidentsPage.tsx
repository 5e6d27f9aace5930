/**
 * The incidents (GET /api/v1/incidents), each with its 72-hour clock, and for security officers the
 * declaration form: compromised accounts and a window (POST /api/v1/incidents), or a leaked CSV file
 * read in the browser and sent as its lines (POST /api/v1/incidents/leaked-file). Declaring needs a
 * fresh second factor: `must(() => ...)` lets the step-up dialog ask for it. A refused file lists its
 * bad rows by line and field only, as the server gives them (no value is shown back).
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { Input } from '@codegouvfr/react-dsfr/Input';
import { RadioButtons } from '@codegouvfr/react-dsfr/RadioButtons';
import { Table } from '@codegouvfr/react-dsfr/Table';
import { Upload } from '@codegouvfr/react-dsfr/Upload';
import { type FormEvent, type ReactNode, useEffect, useState } from 'react';
import { useNavigate } from 'react-router';
import { ApiProblem, api, must } from '../api/client.ts';
import type { paths } from '../api/schema';
import { useFormatDateTime, useT } from '../i18n/i18n.tsx';
import { useSession } from '../session.tsx';
import { incidentMessages } from './messages.ts';
import { ClockBadge } from './Timeline.tsx';

type Incidents =
  paths['/api/v1/incidents']['get']['responses'][200]['content']['application/json']['incidents'];

/** A `datetime-local` value (the browser's zone) as ISO-8601 with an offset; undefined if empty. */
function isoOf(local: string): string | undefined {
  if (!local) return undefined;
  const at = new Date(local);
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
}

/** The list and, for security officers, the declaration form. */
export default function IncidentsPage(): ReactNode {
  const t = useT(incidentMessages);
  const when = useFormatDateTime();
  const navigate = useNavigate();
  const { me } = useSession();
  const [incidents, setIncidents] = useState<Incidents | undefined>();
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    document.title = `${t('listTitle')} — Rempart`;
  }, [t]);
  useEffect(() => {
    must(api.GET('/api/v1/incidents')).then(
      (answer) => setIncidents(answer.incidents),
      (e: unknown) => setError((e as Error).message),
    );
  }, []);

  return (
    <>
      <h1>{t('listTitle')}</h1>
      <p>{t('listIntro')}</p>
      {error && <Alert severity="error" small description={error} className="fr-mb-3w" />}
      {incidents &&
        (incidents.length === 0 ? (
          <p>{t('noIncident')}</p>
        ) : (
          <Table
            caption={t('listCaption')}
            headers={[t('declaredAt'), t('kind'), t('persons'), t('deadline'), '']}
            data={incidents.map((i) => [
              when(i.timeline.declaredAt),
              t(`kind_${i.kind as 'leaked_file'}`),
              String(i.personCount),
              <ClockBadge key="clock" timeline={i.timeline} />,
              <Button
                key="open"
                size="small"
                title={t('openIncident', { at: when(i.timeline.declaredAt) })}
                onClick={() => void navigate(`/incidents/${i.id}`)}
              >
                {t('open')}
              </Button>,
            ])}
          />
        ))}
      {me?.account.role === 'security_officer' && (
        <DeclareForm
          onDeclared={(id, unmatched) => void navigate(`/incidents/${id}`, { state: { unmatched } })}
        />
      )}
    </>
  );
}

/** The declaration form. */
function DeclareForm({ onDeclared }: { onDeclared: (id: string, unmatched: number[]) => void }): ReactNode {
  const t = useT(incidentMessages);
  const [kind, setKind] = useState<'accounts' | 'file'>('file');
  const [accounts, setAccounts] = useState('');
  const [lines, setLines] = useState<string[] | undefined>();
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [detected, setDetected] = useState('');
  const [note, setNote] = useState('');
  const [error, setError] = useState<ReactNode | undefined>();
  const [busy, setBusy] = useState(false);

  const readFile = async (file: File | undefined) => {
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
    setBusy(true);
    setError(undefined);
    const dates = {
      from: isoOf(from) ?? '',
      to: isoOf(to) ?? '',
      ...(isoOf(detected) ? { detectedAt: isoOf(detected) } : {}),
      note: note.trim(),
    };
    try {
      if (kind === 'accounts') {
        const answer = await must(() =>
          api.POST('/api/v1/incidents', {
            body: { accounts: accounts.split(/[\s,]+/).filter((a) => a !== ''), ...dates },
          }),
        );
        onDeclared(answer.incidentId, []);
      } else {
        const answer = await must(() =>
          api.POST('/api/v1/incidents/leaked-file', { body: { lines: lines ?? [], ...dates } }),
        );
        onDeclared(answer.incidentId, answer.unmatchedLines);
      }
    } catch (e) {
      const byLine = e instanceof ApiProblem ? e.issues.filter((i) => i.line !== undefined) : [];
      if (byLine.length > 0) {
        setError(
          <>
            {t('badLines')}
            <ul>
              {byLine.map((i) => (
                <li key={`${i.line}-${i.field}`}>
                  {t('line', { line: i.line ?? 0, field: i.field, message: i.message })}
                </li>
              ))}
            </ul>
          </>,
        );
      } else
        setError(e instanceof ApiProblem && e.field ? `${e.field} : ${e.message}` : (e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(e) => void submit(e)} className="fr-mt-6w">
      <h2>{t('declareTitle')}</h2>
      {error && <Alert severity="error" small description={error} className="fr-mb-3w" />}
      <RadioButtons
        legend={t('declareFrom')}
        options={[
          {
            label: t('fromFile'),
            nativeInputProps: { checked: kind === 'file', onChange: () => setKind('file'), value: 'file' },
          },
          {
            label: t('fromAccounts'),
            nativeInputProps: {
              checked: kind === 'accounts',
              onChange: () => setKind('accounts'),
              value: 'accounts',
            },
          },
        ]}
      />
      {kind === 'accounts' ? (
        <Input
          label={t('accounts')}
          hintText={t('accountsHint')}
          nativeInputProps={{ value: accounts, onChange: (e) => setAccounts(e.target.value), required: true }}
        />
      ) : (
        <Upload
          label={t('file')}
          hint={t('fileHint')}
          nativeInputProps={{
            accept: '.csv,text/csv',
            required: true,
            onChange: (e) => void readFile(e.target.files?.[0]),
          }}
        />
      )}
      <div className="fr-grid-row fr-grid-row--gutters">
        <Input
          className="fr-col-12 fr-col-md-4"
          label={t('from')}
          nativeInputProps={{
            type: 'datetime-local',
            value: from,
            onChange: (e) => setFrom(e.target.value),
            required: true,
          }}
        />
        <Input
          className="fr-col-12 fr-col-md-4"
          label={t('to')}
          nativeInputProps={{
            type: 'datetime-local',
            value: to,
            onChange: (e) => setTo(e.target.value),
            required: true,
          }}
        />
        <Input
          className="fr-col-12 fr-col-md-4"
          label={t('detectedAt')}
          hintText={t('detectedHint')}
          nativeInputProps={{
            type: 'datetime-local',
            value: detected,
            onChange: (e) => setDetected(e.target.value),
          }}
        />
      </div>
      <Input
        label={t('note')}
        hintText={t('noteHint')}
        textArea
        nativeTextAreaProps={{
          value: note,
          onChange: (e) => setNote(e.target.value),
          required: true,
          maxLength: 1000,
        }}
      />
      <Button type="submit" disabled={busy}>
        {t('declare')}
      </Button>
    </form>
  );
}
