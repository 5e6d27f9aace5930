/**
 * A counselor's export request (POST /api/v1/exports): a purpose among those the role may export,
 * the fields as checkboxes limited to what the role may read for that purpose, a filter by status
 * and registration dates only, and the recipient organisation. Nothing is read yet: the file is made
 * once another person approves.
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { Checkbox } from '@codegouvfr/react-dsfr/Checkbox';
import { Input } from '@codegouvfr/react-dsfr/Input';
import { Select } from '@codegouvfr/react-dsfr/Select';
import { type FormEvent, type ReactNode, useState } from 'react';
import { ApiProblem, api, must } from '../api/client.ts';
import { useT } from '../i18n/i18n.tsx';
import type { ExportOptions } from './exports.ts';
import { exportMessages } from './messages.ts';

const STATUSES = ['registered', 'deregistered', 'candidate'] as const;
type Status = (typeof STATUSES)[number];
type PurposeId = ExportOptions['purposes'][number]['id'];
type Field = ExportOptions['purposes'][number]['fields'][number];

/** The request form; `onRequested` reloads the list. */
export function RequestForm({
  options,
  onRequested,
}: {
  options: ExportOptions;
  onRequested: () => void;
}): ReactNode {
  const t = useT(exportMessages);
  const [purpose, setPurpose] = useState<PurposeId | ''>(
    options.purposes.length === 1 ? options.purposes[0]!.id : '',
  );
  const [fields, setFields] = useState<Field[]>([]);
  const [statuses, setStatuses] = useState<Status[]>([]);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [recipient, setRecipient] = useState('');
  const [notice, setNotice] = useState<{ ok: boolean; text: string } | undefined>();
  const [busy, setBusy] = useState(false);
  const allowed = options.purposes.find((p) => p.id === purpose)?.fields ?? [];

  if (options.purposes.length === 0) return <p>{t('noPurpose')}</p>;

  const toggle = <T,>(list: T[], value: T, on: boolean): T[] =>
    on ? [...list.filter((v) => v !== value), value] : list.filter((v) => v !== value);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (purpose === '') return;
    setBusy(true);
    setNotice(undefined);
    try {
      await must(() =>
        api.POST('/api/v1/exports', {
          body: {
            purpose,
            fields: fields.filter((f) => allowed.includes(f)),
            filter: {
              ...(statuses.length > 0 ? { statuses } : {}),
              ...(from ? { registeredFrom: from } : {}),
              ...(to ? { registeredTo: to } : {}),
            },
            recipientOrganisationId: recipient,
          },
        }),
      );
      setNotice({ ok: true, text: t('requested') });
      setFields([]);
      setStatuses([]);
      setFrom('');
      setTo('');
      setRecipient('');
      onRequested();
    } catch (problem) {
      if (problem instanceof ApiProblem && !['throttled', 'account_suspended'].includes(problem.code))
        setNotice({ ok: false, text: t('refused', { message: problem.message }) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(e) => void submit(e)} className="fr-mb-6w" aria-labelledby="request-title">
      <h2 id="request-title">{t('requestTitle')}</h2>
      {notice && (
        <Alert
          severity={notice.ok ? 'success' : 'error'}
          small
          description={notice.text}
          className="fr-mb-3w"
        />
      )}
      <Select
        label={t('purpose')}
        hint={t('purposeHint')}
        nativeSelectProps={{
          value: purpose,
          required: true,
          onChange: (e) => {
            setPurpose(e.target.value as PurposeId);
            setFields([]);
          },
        }}
      >
        <option value="" disabled>
          {t('choose')}
        </option>
        {options.purposes.map((p) => (
          <option key={p.id} value={p.id}>
            {t(`purpose_${p.id}`)}
          </option>
        ))}
      </Select>
      {allowed.length > 0 && (
        <Checkbox
          legend={t('fields')}
          hintText={t('fieldsHint')}
          orientation="horizontal"
          options={allowed.map((f) => ({
            label: t(`field_${f}`),
            nativeInputProps: {
              name: 'fields',
              value: f,
              checked: fields.includes(f),
              onChange: (e) => setFields(toggle(fields, f, e.target.checked)),
            },
          }))}
        />
      )}
      <Checkbox
        legend={t('statuses')}
        orientation="horizontal"
        options={STATUSES.map((s) => ({
          label: t(`status_${s}`),
          nativeInputProps: {
            name: 'statuses',
            value: s,
            checked: statuses.includes(s),
            onChange: (e) => setStatuses(toggle(statuses, s, e.target.checked)),
          },
        }))}
      />
      <div className="fr-grid-row fr-grid-row--gutters">
        <Input
          className="fr-col-12 fr-col-md-6"
          label={t('registeredFrom')}
          nativeInputProps={{ type: 'date', value: from, onChange: (e) => setFrom(e.target.value) }}
        />
        <Input
          className="fr-col-12 fr-col-md-6"
          label={t('registeredTo')}
          nativeInputProps={{ type: 'date', value: to, onChange: (e) => setTo(e.target.value) }}
        />
      </div>
      <Select
        label={t('recipient')}
        hint={t('recipientHint')}
        nativeSelectProps={{
          value: recipient,
          required: true,
          onChange: (e) => setRecipient(e.target.value),
        }}
      >
        <option value="" disabled>
          {t('choose')}
        </option>
        {options.recipients.map((r) => (
          <option key={r.id} value={r.id}>
            {r.keyRegistered ? r.name : t('recipientNoKey', { name: r.name })}
          </option>
        ))}
      </Select>
      <Button type="submit" disabled={busy || fields.length === 0}>
        {t('submit')}
      </Button>
    </form>
  );
}
