/**
 * Work items (T4; docs/API.md, "Work items"). For an operator, "Mes dossiers": the items assigned to
 * them (reference, task, deadline, state: nothing of the person), one opened at a time in this
 * page's memory (GET /api/v1/work-items/{id}: the gate, audited) with exactly the task's fields,
 * then marked done. For a subcontractor's manager, the organisation's items and the assignment of
 * one to an operator; for a counselor, the items the organisation handed over. No item id or
 * person reaches the address bar or the title; nothing is downloadable.
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { Badge } from '@codegouvfr/react-dsfr/Badge';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { Select } from '@codegouvfr/react-dsfr/Select';
import { Table } from '@codegouvfr/react-dsfr/Table';
import { type FormEvent, type ReactNode, useCallback, useEffect, useState } from 'react';
import { ApiProblem, api, must } from '../api/client.ts';
import { useFormatDateTime, useLang, useT } from '../i18n/i18n.tsx';
import { loadAccounts } from '../manager/accounts.ts';
import { useSession } from '../session.tsx';
import { formatField } from '../staff/fields.tsx';
import { workItemMessages } from './messages.ts';
import { loadTasks, type Task } from './tasks.ts';

type Item = Awaited<ReturnType<typeof loadItems>>['items'][number];
type Opened = Awaited<ReturnType<typeof openItem>>;
type Operator = { id: string; displayName: string };

const loadItems = () => must(api.GET('/api/v1/work-items'));
const openItem = (id: string) => must(() => api.GET('/api/v1/work-items/{id}', { params: { path: { id } } }));

const SEVERITY: Record<Item['state'], 'success' | 'info' | 'warning' | 'new'> = {
  open: 'new',
  assigned: 'info',
  done: 'success',
  closed: 'warning',
};

/** The work-items screen: an operator's own, or the list a manager or counselor deals with. */
export default function WorkItemsPage(): ReactNode {
  const t = useT(workItemMessages);
  const { lang } = useLang();
  const formatDate = useFormatDateTime();
  const { me } = useSession();
  const role = me?.account.role;
  const operator = role === 'subcontractor_operator';
  const manager = role === 'org_manager';
  const [items, setItems] = useState<Item[] | undefined>();
  const [tasks, setTasks] = useState<Task[]>([]);
  const [opened, setOpened] = useState<Opened | undefined>();
  const [notice, setNotice] = useState<{ ok: boolean; text: string } | undefined>();
  const [operators, setOperators] = useState<Operator[]>([]);
  const [assignment, setAssignment] = useState({ item: '', operator: '' });

  const reload = useCallback(() => {
    loadItems().then(
      (answer) => setItems(answer.items),
      () => setItems([]),
    );
  }, []);
  useEffect(() => {
    document.title = `${t(operator ? 'myTitle' : 'handedTitle')} — Rempart`;
  }, [t, operator]);
  useEffect(reload, [reload]);
  useEffect(() => {
    loadTasks().then(setTasks, () => setTasks([]));
  }, []);
  useEffect(() => {
    if (!manager) return;
    loadAccounts().then(
      (answer) =>
        setOperators(
          answer.accounts.filter(
            (a) => a.role === 'subcontractor_operator' && ['active', 'probation'].includes(a.status),
          ),
        ),
      () => setOperators([]),
    );
  }, [manager]);

  const taskLabel = (id: string): string => tasks.find((x) => x.id === id)?.label[lang] ?? id;
  const refused = (problem: unknown): void => {
    if (problem instanceof ApiProblem && !['throttled', 'account_suspended'].includes(problem.code)) {
      setNotice({
        ok: false,
        text: problem.code === 'not_found' ? t('notOpen') : t('failed', { message: problem.message }),
      });
    }
  };

  const open = async (item: Item) => {
    setNotice(undefined);
    setOpened(undefined);
    try {
      setOpened(await openItem(item.id));
    } catch (problem) {
      refused(problem);
      reload();
    }
  };
  const complete = async (outcome: 'processed' | 'rejected') => {
    if (!opened) return;
    const { id, reference } = opened.item;
    try {
      await must(() =>
        api.POST('/api/v1/work-items/{id}/done', { params: { path: { id } }, body: { outcome } }),
      );
      // What the item showed leaves the page with it.
      setOpened(undefined);
      setNotice({ ok: true, text: t('marked', { reference, outcome: t(`outcome_${outcome}`) }) });
    } catch (problem) {
      setOpened(undefined);
      refused(problem);
    }
    reload();
  };
  const assign = async (event: FormEvent) => {
    event.preventDefault();
    setNotice(undefined);
    const item = items?.find((i) => i.id === assignment.item);
    const who = operators.find((o) => o.id === assignment.operator);
    if (!item || !who) return;
    try {
      await must(() =>
        api.POST('/api/v1/work-items/{id}/assign', {
          params: { path: { id: item.id } },
          body: { operatorId: who.id },
        }),
      );
      setNotice({ ok: true, text: t('assigned', { reference: item.reference, name: who.displayName }) });
      setAssignment({ item: '', operator: '' });
    } catch (problem) {
      refused(problem);
    }
    reload();
  };

  const headers = [
    t('colReference'),
    t('colTask'),
    t('colDeadline'),
    t('colState'),
    ...(operator ? [t('colAction')] : [t(manager ? 'colOperator' : 'colSubcontractor')]),
  ];
  const rows = (items ?? []).map((item) => [
    item.reference,
    taskLabel(item.task),
    formatDate(item.deadline),
    <Badge key="s" severity={SEVERITY[item.state]} small noIcon>
      {t(`state_${item.state}`)}
      {item.outcome ? ` (${t(`outcome_${item.outcome}`)})` : ''}
    </Badge>,
    operator ? (
      item.state === 'assigned' ? (
        <Button
          key="a"
          size="small"
          priority="secondary"
          title={t('openLabel', { reference: item.reference })}
          nativeButtonProps={{ 'aria-label': t('openLabel', { reference: item.reference }) }}
          onClick={() => void open(item)}
        >
          {t('open')}
        </Button>
      ) : (
        '—'
      )
    ) : manager ? (
      (item.assignedTo?.displayName ?? '—')
    ) : (
      item.subcontractor.name
    ),
  ]);
  const assignable = (items ?? []).filter((i) => i.state === 'open' || i.state === 'assigned');

  return (
    <>
      <h1>{t(operator ? 'myTitle' : 'handedTitle')}</h1>
      <p>{t(operator ? 'myIntro' : manager ? 'handedIntroManager' : 'handedIntroCounselor')}</p>
      {notice && (
        <Alert
          severity={notice.ok ? 'success' : 'error'}
          small
          description={notice.text}
          className="fr-mb-3w"
        />
      )}
      {opened && (
        <section className="fr-mb-5w" aria-labelledby="opened-item">
          <h2 id="opened-item" className="fr-h4">
            {t('itemTitle', { reference: opened.item.reference })}
          </h2>
          <p>
            {t('itemIntro', {
              task: taskLabel(opened.item.task),
              deadline: formatDate(opened.item.deadline),
            })}
          </p>
          {tasks.find((x) => x.id === opened.item.task)?.pseudonymised && <p>{t('pseudonymised')}</p>}
          <Table
            caption={t('itemTitle', { reference: opened.item.reference })}
            noCaption
            data={opened.fields.map((f) => [
              t(`field_${f}`),
              formatField(f, opened.item.person as Record<string, unknown>, lang),
            ])}
          />
          <Button className="fr-mr-2w" onClick={() => void complete('processed')}>
            {t('markProcessed')}
          </Button>
          <Button className="fr-mr-2w" priority="secondary" onClick={() => void complete('rejected')}>
            {t('markRejected')}
          </Button>
          <Button priority="tertiary" onClick={() => setOpened(undefined)}>
            {t('closeItem')}
          </Button>
        </section>
      )}
      {items && items.length === 0 && <p>{t('none')}</p>}
      {items && items.length > 0 && (
        <Table caption={t(operator ? 'myTitle' : 'handedTitle')} noCaption headers={headers} data={rows} />
      )}
      {manager && assignable.length > 0 && (
        <form onSubmit={assign} className="fr-mt-5w">
          <h2 className="fr-h4">{t('assignTitle')}</h2>
          <Select
            label={t('item')}
            nativeSelectProps={{
              value: assignment.item,
              required: true,
              onChange: (e) => setAssignment({ ...assignment, item: e.target.value }),
            }}
          >
            <option value="" disabled>
              {t('choose')}
            </option>
            {assignable.map((i) => (
              <option key={i.id} value={i.id}>
                {`${i.reference} — ${taskLabel(i.task)}`}
              </option>
            ))}
          </Select>
          <Select
            label={t('operator')}
            nativeSelectProps={{
              value: assignment.operator,
              required: true,
              onChange: (e) => setAssignment({ ...assignment, operator: e.target.value }),
            }}
          >
            <option value="" disabled>
              {t('choose')}
            </option>
            {operators.map((o) => (
              <option key={o.id} value={o.id}>
                {o.displayName}
              </option>
            ))}
          </Select>
          <Button type="submit">{t('assign')}</Button>
        </form>
      )}
    </>
  );
}
