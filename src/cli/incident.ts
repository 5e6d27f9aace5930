/**
 * `rempart incident declare|list|show|draft` (docs/INCIDENTS.md): the operator declares an incident
 * on behalf of a security officer (`--by`, whose account the incident and the leaked file's match
 * are recorded under), lists incidents and shows one with its timeline and 72-hour clock (counts
 * only: an incident's persons are read through the audited API), and prints or saves the art. 33
 * draft. The draft's edits and sending stay the DPO's, in the console or the API.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { Config } from '../config.ts';
import { openKeys } from '../crypto/open.ts';
import { openDb } from '../db/open.ts';
import type { Db } from '../db/types.ts';
import { AppError } from '../errors.ts';
import { normaliseLogin } from '../identity/accounts.ts';
import type { Art33Draft } from '../incidents/art33.ts';
import { draftPdf } from '../incidents/art33-pdf.ts';
import { readDraft } from '../incidents/art33-store.ts';
import { PERSON_STATUSES } from '../incidents/categories.ts';
import { type Declared, type Declarer, declareFromAccounts, declareFromFile } from '../incidents/declare.ts';
import { type IncidentSummary, incidentSummary, listIncidents } from '../incidents/list.ts';
import type { IncidentTimeline } from '../incidents/timeline.ts';
import { resolveAccounts } from './audit-scope.ts';

/** What `incident declare` is given. */
export interface DeclareOptions {
  by: string;
  account?: string[];
  file?: string;
  from: Date;
  to: Date;
  detected?: Date;
  note: string;
}

async function withDb<T>(config: Config, use: (db: Db) => Promise<T>): Promise<T> {
  const db = await openDb(config);
  try {
    return await use(db);
  } finally {
    await db.close();
  }
}

/** The security officer `--by` names, as the declarer (no session: a CLI run). */
async function declarerOf(db: Db, login: string): Promise<Declarer> {
  const [row] = await db.tx({ kind: 'system', operation: 'incidents' }, (tx) =>
    tx.query<{ id: string; organisation_id: string; role: string }>(
      'SELECT id, organisation_id, role FROM accounts WHERE login = $1',
      [normaliseLogin(login)],
    ),
  );
  if (!row) throw new AppError('not_found', '--by: no account has this login', { field: 'by' });
  return {
    accountId: row.id,
    organisationId: row.organisation_id,
    role: row.role,
    sessionIdHash: null,
    requestId: `cli-incident-${Date.now()}`,
    sourceAddress: null,
  };
}

/** Declares an incident from accounts and a window, or from a leaked CSV file. */
export async function runDeclare(config: Config, o: DeclareOptions): Promise<Declared> {
  if ((o.account === undefined) === (o.file === undefined))
    throw new AppError('validation_failed', 'give either --account (repeatable) or --file', {
      field: 'account',
    });
  const keys = await openKeys(config);
  return withDb(config, async (db) => {
    const declarer = await declarerOf(db, o.by);
    const now = new Date();
    const base = { from: o.from, to: o.to, note: o.note, ...(o.detected ? { detectedAt: o.detected } : {}) };
    if (o.file !== undefined) {
      const csv = await readFile(o.file, 'utf8');
      return declareFromFile(db, keys.registry, declarer, { ...base, csv }, now);
    }
    const accounts = await db.tx({ kind: 'system', operation: 'incidents' }, (tx) =>
      resolveAccounts(tx, o.account ?? []),
    );
    return declareFromAccounts(db, keys.registry, declarer, { ...base, accounts }, now);
  });
}

/** The incidents, newest first, with their counts and timelines. */
export function runList(config: Config): Promise<IncidentSummary[]> {
  return withDb(config, (db) => listIncidents(db, 'security_officer', new Date()));
}

/** One incident's counts and timeline. */
export function runShow(config: Config, id: string): Promise<IncidentSummary> {
  return withDb(config, (db) => incidentSummary(db, id, new Date()));
}

/** The art. 33 draft; with `pdf`, also written there as PDF (0600: it names the DPO). */
export async function runDraft(config: Config, id: string, pdf?: string): Promise<Art33Draft> {
  const draft = await withDb(config, (db) => readDraft(db, 'dpo', id, config.controller, new Date()));
  if (pdf !== undefined) await writeFile(pdf, await draftPdf(draft), { mode: 0o600 });
  return draft;
}

const hours = (ms: number): string =>
  `${Math.floor(Math.abs(ms) / 3_600_000)} h ${Math.floor((Math.abs(ms) % 3_600_000) / 60_000)} min`;

/** The timeline and 72-hour clock as lines. */
export function formatTimeline(t: IncidentTimeline): string[] {
  const c = t.clock;
  const state =
    c.status === 'running'
      ? `${hours(c.msLeft ?? 0)} left`
      : c.status === 'overdue'
        ? `OVERDUE by ${hours(c.msLeft ?? 0)}`
        : c.status.replace('_', ' ').replace('_', ' ');
  return [
    `detected:           ${t.detectedAt}`,
    `declared:           ${t.declaredAt}`,
    `authority notified: ${t.authorityNotifiedAt ?? '—'}`,
    `people notified:    ${t.peopleNotifiedAt ?? '—'}`,
    `72-hour deadline:   ${c.deadline} (${state})`,
  ];
}

/** An incident's summary as text. */
export function formatSummary(s: IncidentSummary): string {
  const categories = s.categories
    ? `${PERSON_STATUSES.map((k) => `${k} ${s.categories?.byStatus[k] ?? 0}`).join(', ')}; minors ${
        s.categories.minors ?? 'not counted'
      }`
    : 'not counted';
  return [
    `incident ${s.id} (${s.kind}, ${s.status})`,
    `window:     ${s.windowFrom} to ${s.windowTo}`,
    `persons:    ${s.personCount} (${categories})`,
    `records:    ${s.records}`,
    `fields:     ${Object.entries(s.fieldCounts)
      .map(([f, n]) => `${f} ${n}`)
      .join(', ')}`,
    ...formatTimeline(s.timeline),
  ].join('\n');
}
