/**
 * On a person's record, for a counselor: hand one document of this person to a subcontractor as a
 * work item (POST /api/v1/work-items, through the gate). The tasks offered are those the server says
 * this role hands over for the record's purpose; each says which fields the operator will see. The
 * person's id stays in this page's memory (the record's selection).
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { Input } from '@codegouvfr/react-dsfr/Input';
import { Select } from '@codegouvfr/react-dsfr/Select';
import { type FormEvent, type ReactNode, useEffect, useState } from 'react';
import { ApiProblem, api, must } from '../api/client.ts';
import { useFormatDateTime, useLang, useT } from '../i18n/i18n.tsx';
import { workItemMessages } from './messages.ts';
import { loadTasks, type Task } from './tasks.ts';

type Subcontractor = { id: string; code: string; name: string };

/** The hand-over form for the person `personId`, read for `purpose`. */
export default function HandOverForm({
  personId,
  purpose,
}: {
  personId: string;
  purpose: string;
}): ReactNode {
  const t = useT(workItemMessages);
  const { lang } = useLang();
  const formatDate = useFormatDateTime();
  const [tasks, setTasks] = useState<Task[]>([]);
  const [subcontractors, setSubcontractors] = useState<Subcontractor[]>([]);
  const [form, setForm] = useState({ task: '', subcontractor: '', deadline: '' });
  const [result, setResult] = useState<{ ok: boolean; text: string } | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    loadTasks().then(
      (all) => setTasks(all.filter((task) => (task.purposes as string[]).includes(purpose))),
      () => setTasks([]),
    );
    must(api.GET('/api/v1/work-items/subcontractors')).then(
      (answer) => setSubcontractors(answer.subcontractors),
      () => setSubcontractors([]),
    );
  }, [purpose]);
  if (tasks.length === 0 || subcontractors.length === 0) return null;
  const chosen = tasks.find((task) => task.id === form.task);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setResult(undefined);
    setBusy(true);
    try {
      const deadline = new Date(form.deadline);
      const answer = await must(() =>
        api.POST('/api/v1/work-items', {
          body: {
            purpose: purpose as never,
            personId,
            task: form.task as Task['id'],
            subcontractorId: form.subcontractor,
            deadline: Number.isNaN(deadline.getTime()) ? form.deadline : deadline.toISOString(),
          },
        }),
      );
      setResult({
        ok: true,
        text: t('handedOver', {
          reference: answer.item.reference,
          deadline: formatDate(answer.item.deadline),
        }),
      });
      setForm({ task: '', subcontractor: '', deadline: '' });
    } catch (problem) {
      if (problem instanceof ApiProblem && !['throttled', 'account_suspended'].includes(problem.code)) {
        setResult({ ok: false, text: t('failed', { message: problem.message }) });
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} className="fr-mt-5w">
      <h2 className="fr-h4">{t('handOverTitle')}</h2>
      <p>{t('handOverIntro')}</p>
      {result && (
        <Alert
          severity={result.ok ? 'success' : 'error'}
          small
          description={result.text}
          className="fr-mb-3w"
        />
      )}
      <Select
        label={t('task')}
        hint={
          chosen ? t('taskHint', { fields: chosen.fields.map((f) => t(`field_${f}`)).join(', ') }) : undefined
        }
        nativeSelectProps={{
          value: form.task,
          required: true,
          onChange: (e) => setForm({ ...form, task: e.target.value }),
        }}
      >
        <option value="" disabled>
          {t('choose')}
        </option>
        {tasks.map((task) => (
          <option key={task.id} value={task.id}>
            {task.label[lang]}
          </option>
        ))}
      </Select>
      <Select
        label={t('subcontractor')}
        nativeSelectProps={{
          value: form.subcontractor,
          required: true,
          onChange: (e) => setForm({ ...form, subcontractor: e.target.value }),
        }}
      >
        <option value="" disabled>
          {t('choose')}
        </option>
        {subcontractors.map((s) => (
          <option key={s.id} value={s.id}>
            {s.name}
          </option>
        ))}
      </Select>
      <Input
        label={t('deadline')}
        hintText={t('deadlineHint', { days: chosen?.maxDays ?? Math.min(...tasks.map((x) => x.maxDays)) })}
        nativeInputProps={{
          type: 'datetime-local',
          value: form.deadline,
          required: true,
          onChange: (e) => setForm({ ...form, deadline: e.target.value }),
        }}
      />
      <Button type="submit" disabled={busy}>
        {t('handOver')}
      </Button>
    </form>
  );
}
