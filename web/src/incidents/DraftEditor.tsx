/**
 * The notification to the CNIL (GDPR art. 33) as a form: the DPO edits the draft's items (PATCH, errors
 * name the item), downloads it as PDF and marks it sent (a fresh second factor: `must(() => ...)`);
 * security officers read it. Every item of the draft is shown, editable or not.
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { ButtonsGroup } from '@codegouvfr/react-dsfr/ButtonsGroup';
import { Checkbox } from '@codegouvfr/react-dsfr/Checkbox';
import { Input } from '@codegouvfr/react-dsfr/Input';
import { Select } from '@codegouvfr/react-dsfr/Select';
import { type ReactNode, useState } from 'react';
import { ApiProblem, api, must } from '../api/client.ts';
import type { paths } from '../api/schema';
import { useFormatDateTime, useT } from '../i18n/i18n.tsx';
import { useSession } from '../session.tsx';
import { incidentMessages } from './messages.ts';

/** The draft as GET /api/v1/incidents/{id}/draft answers it. */
export type Draft =
  paths['/api/v1/incidents/{id}/draft']['get']['responses'][200]['content']['application/json'];
type Edits = NonNullable<
  paths['/api/v1/incidents/{id}/draft']['patch']['requestBody']
>['content']['application/json'];

const TEXTS = [
  'controllerName',
  'dpoName',
  'dpoEmail',
  'nature',
  'cause',
  'consequences',
  'measuresTaken',
  'measuresProposed',
  'notInformedReason',
  'crossBorderCountries',
  'delayReasons',
] as const;
const LONG = new Set([
  'nature',
  'cause',
  'consequences',
  'measuresTaken',
  'measuresProposed',
  'delayReasons',
]);
const TYPES = ['confidentiality', 'integrity', 'availability'] as const;
const CHANNELS = ['email', 'sms', 'letter', 'portal'] as const;

/** The draft's form; `onChange` receives the draft as stored after a save or the sending. */
export function DraftEditor({
  draft,
  onChange,
}: {
  draft: Draft;
  onChange: (draft: Draft) => void;
}): ReactNode {
  const t = useT(incidentMessages);
  const when = useFormatDateTime();
  const { me } = useSession();
  const id = draft.incidentId;
  const [form, setForm] = useState<Edits>({});
  const [error, setError] = useState<string | undefined>();
  const [done, setDone] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const editor = me?.account.role === 'dpo' && draft.status === 'draft';
  const show = (answer: Draft) => {
    setForm({});
    onChange(answer);
  };

  const act = async (action: 'save' | 'send') => {
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    try {
      if (action === 'save') {
        show(await must(api.PATCH('/api/v1/incidents/{id}/draft', { params: { path: { id } }, body: form })));
        setDone(t('saved'));
      } else {
        show(await must(() => api.POST('/api/v1/incidents/{id}/draft/sent', { params: { path: { id } } })));
        setDone(t('sentDone'));
      }
    } catch (e) {
      const issues = e instanceof ApiProblem ? e.issues : [];
      setError(
        issues.length > 0
          ? issues.map((i) => `${t(i.field as 'nature')} : ${i.message}`).join(' ; ')
          : (e as Error).message,
      );
    } finally {
      setBusy(false);
    }
  };

  const value = <K extends keyof Draft & keyof Edits>(key: K) => (key in form ? form[key] : draft[key]);
  const text = (key: (typeof TEXTS)[number]) => (value(key) as string | null) ?? '';
  const setText = (key: (typeof TEXTS)[number], v: string) =>
    setForm({ ...form, [key]: v === '' ? null : v });
  const toggle = <T extends string>(key: 'natureTypes' | 'informChannels', item: T, on: boolean) => {
    const current = (value(key) ?? []) as T[];
    setForm({ ...form, [key]: on ? [...current, item] : current.filter((x) => x !== item) });
  };
  return (
    <>
      <h2>{t('draftTitle')}</h2>
      <p>{me?.account.role === 'dpo' ? t('draftIntro') : t('draftReadOnly')}</p>
      {draft.sentAt && (
        <Alert
          severity="success"
          small
          description={t('draftSent', { at: when(draft.sentAt) })}
          className="fr-mb-3w"
        />
      )}
      {draft.missing.length > 0 && (
        <Alert
          severity="warning"
          small
          description={t('missing', { items: draft.missing.map((m) => t(m as 'nature')).join(', ') })}
          className="fr-mb-3w"
        />
      )}
      {error && <Alert severity="error" small description={error} className="fr-mb-3w" />}
      {done && <Alert severity="success" small description={done} className="fr-mb-3w" />}
      {TEXTS.slice(0, 5).map((key) => (
        <DraftText
          key={key}
          id={key}
          label={t(key)}
          long={LONG.has(key)}
          value={text(key)}
          disabled={!editor}
          onChange={(v) => setText(key, v)}
        />
      ))}
      <Checkbox
        legend={t('natureTypes')}
        orientation="horizontal"
        disabled={!editor}
        options={TYPES.map((type) => ({
          label: t(type),
          nativeInputProps: {
            checked: (value('natureTypes') ?? []).includes(type),
            onChange: (e) => toggle('natureTypes', type, e.target.checked),
          },
        }))}
      />
      {TEXTS.slice(5, 8).map((key) => (
        <DraftText
          key={key}
          id={key}
          label={t(key)}
          long
          value={text(key)}
          disabled={!editor}
          onChange={(v) => setText(key, v)}
        />
      ))}
      <Select
        label={t('personsInformed')}
        disabled={!editor}
        nativeSelectProps={{
          value: value('personsInformed') ?? 'planned',
          onChange: (e) => setForm({ ...form, personsInformed: e.target.value as 'yes' }),
        }}
      >
        {(['yes', 'planned', 'no'] as const).map((o) => (
          <option key={o} value={o}>
            {t(`informed_${o}`)}
          </option>
        ))}
      </Select>
      <Checkbox
        legend={t('informChannels')}
        orientation="horizontal"
        disabled={!editor}
        options={CHANNELS.map((c) => ({
          label: t(c),
          nativeInputProps: {
            checked: (value('informChannels') ?? []).includes(c),
            onChange: (e) => toggle('informChannels', c, e.target.checked),
          },
        }))}
      />
      <DraftText
        id="notInformedReason"
        label={t('notInformedReason')}
        value={text('notInformedReason')}
        disabled={!editor}
        onChange={(v) => setText('notInformedReason', v)}
      />
      <Checkbox
        legend={t('crossBorder')}
        disabled={!editor}
        options={[
          {
            label: t('crossBorderLabel'),
            nativeInputProps: {
              checked: !!value('crossBorder'),
              onChange: (e) => setForm({ ...form, crossBorder: e.target.checked }),
            },
          },
        ]}
      />
      <DraftText
        id="crossBorderCountries"
        label={t('crossBorderCountries')}
        value={text('crossBorderCountries')}
        disabled={!editor}
        onChange={(v) => setText('crossBorderCountries', v)}
      />
      <DraftText
        id="delayReasons"
        label={t('delayReasons')}
        long
        value={text('delayReasons')}
        disabled={!editor}
        onChange={(v) => setText('delayReasons', v)}
      />
      <p>
        <a
          className="fr-link fr-link--download"
          href={`/api/v1/incidents/${draft.incidentId}/draft/pdf`}
          download
        >
          {t('pdf')}
        </a>
      </p>
      {editor && (
        <ButtonsGroup
          inlineLayoutWhen="md and up"
          buttons={[
            { children: t('save'), priority: 'secondary', disabled: busy, onClick: () => void act('save') },
            {
              children: t('markSent'),
              disabled: busy || Object.keys(form).length > 0,
              onClick: () => void act('send'),
            },
          ]}
        />
      )}
      {!editor && (
        <Button priority="tertiary" linkProps={{ to: '/incidents' }}>
          {t('listTitle')}
        </Button>
      )}
    </>
  );
}

/** One text item of the draft. */
function DraftText(props: {
  id: string;
  label: string;
  value: string;
  long?: boolean;
  disabled: boolean;
  onChange: (value: string) => void;
}): ReactNode {
  return props.long ? (
    <Input
      label={props.label}
      textArea
      disabled={props.disabled}
      nativeTextAreaProps={{
        value: props.value,
        onChange: (e) => props.onChange(e.target.value),
        maxLength: 4000,
        rows: 3,
      }}
    />
  ) : (
    <Input
      label={props.label}
      disabled={props.disabled}
      nativeInputProps={{
        value: props.value,
        onChange: (e) => props.onChange(e.target.value),
        maxLength: 500,
      }}
    />
  );
}
