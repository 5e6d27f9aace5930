/**
 * T3 (docs/DESIGN.md section 2; 2021: an agent's bulk files, made off-hours for years, ended up on a
 * temp agency's unprotected server): an honest-looking agent copies the agency through exports. The
 * insider was the agency's acting manager last week: they made a friendly colleague a manager (the
 * agency's manager approved it, as managers do), then went back to counselor duties (the manager
 * asked, an administrator approved). They own their session and authenticator app (a step-up does
 * not stop them). The DPO has registered the age key of a partner organisation, the recipient.
 * (a) the control: a small export asked in the day, approved by the agency's manager, made and
 *     downloaded — the four-eyes rule working as meant, not counted as exposed;
 * (b) a self-approved export: the whole agency, approved by the insider, then made and downloaded;
 * (c) an approval by an account they provisioned: the friend they made a manager approves it;
 * (d) off-hours bulk: the manager, who approves what comes in the day, approves it; the insider
 *     makes the file at 21:00, then on Saturday morning;
 * (e) little by little: every week, an export of one slice of registrations, asked in the day and
 *     approved by the manager, made in the evening just under the size refused after hours (a slice
 *     refused as too large is split in two for the next weeks), until the guard stops the account.
 * Goal: 0 records leave without a second person's approval (recordsExposed 0: rows of files the
 * insider obtained that nobody else, or only an account they provisioned, approved); the guard
 * suspends the insider. Rows a genuine second person approved are reported as approvedRows.
 */
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { addDays, isWorkingDay, nextWorkingMorning, wallTime, weekdayOf, zonedInstant } from '../calendar.ts';
import { type Exchange, Tally } from '../client.ts';
import type { ScenarioResult, StepResult } from '../report.ts';
import type { CastSpec, Scenario, World } from '../scenario.ts';
import { describeAlerts, guardAlerts, suspendingSignals } from '../steps/alerts.ts';
import { type Attempt, type OwnerClient, ownerClient } from '../steps/owner-client.ts';
import { step } from '../steps/stolen-password.ts';

export const T3_INSIDER: CastSpec = { name: 't3-insider', role: 'org_manager', organisationKind: 'agency' };
export const T3_FRIEND: CastSpec = { name: 't3-friend', role: 'counselor', organisationKind: 'agency' };
export const T3_MANAGER: CastSpec = { name: 't3-manager', role: 'org_manager', organisationKind: 'agency' };
export const T3_ADMIN: CastSpec = { name: 't3-admin', role: 'administrator', organisationKind: 'national' };
export const T3_DPO: CastSpec = { name: 't3-dpo', role: 'dpo', organisationKind: 'national' };

const TITLE =
  'an honest-looking agent copying the agency through exports: alone, at night, little by little (2021)';
const EXPORTS = '/api/v1/exports';
const EXPORT = '/api/v1/exports/{id}';
const PURPOSE = 'accompaniment';
const FIELDS = ['agencyId', 'nir', 'lastName', 'firstNames', 'birthDate', 'address', 'phone', 'email'];
/** Weeks of evening exports at most (the guard is expected to stop them well before). */
const WEEKS = 12;

/** An export as the list shows it (the fields the scenario reads). */
interface ExportView {
  id: string;
  state: string;
  decidedBy: string | null;
  rowCount: number | null;
}

/** A slice of registrations by start date (YYYY-MM-DD, both included). */
interface Slice {
  from: string;
  to: string;
}

export const t3: Scenario = {
  id: 'T3',
  title: TITLE,
  cast: [T3_INSIDER, T3_FRIEND, T3_MANAGER, T3_ADMIN, T3_DPO],
  async run(world): Promise<ScenarioResult> {
    const startedAt = performance.now();
    const insider = world.staff(T3_INSIDER.name);
    const friend = world.staff(T3_FRIEND.name);
    const managerMember = world.staff(T3_MANAGER.name);
    const dpoMember = world.staff(T3_DPO.name);
    const steps: StepResult[] = [];
    const remarks: string[] = [];

    // The next working day, 09:00 (Paris).
    const date = nextWorkingMorning(world.clock.now());
    await world.clock.set(zonedInstant(date, 9, 0));

    world.progress('T3 setup: a recipient’s key; the acting manager makes a friend manager, then steps down');
    const dpo = await ownerClient(world, T3_DPO.name);
    const options = await dpo.send({
      method: 'GET',
      path: `${EXPORTS}/options`,
      route: `${EXPORTS}/options`,
    });
    const recipients =
      (options.body as { recipients?: { id: string; kind: string }[] } | undefined)?.recipients ?? [];
    const recipient =
      recipients.find((r) => r.kind === 'training_body') ?? recipients.find((r) => r.kind !== 'agency');
    if (!recipient) throw new Error(`T3: no recipient organisation (${options.status} ${options.code})`);
    const registered = await dpo.send({
      method: 'POST',
      path: `${EXPORTS}/recipients`,
      route: `${EXPORTS}/recipients`,
      body: {
        organisationId: recipient.id,
        ageRecipient: await identityToRecipient(await generateIdentity()),
      },
    });
    if (registered.status !== 200)
      throw new Error(`T3: registering the recipient's key answered ${registered.status} ${registered.code}`);
    const acting = await ownerClient(world, T3_INSIDER.name);
    const manager = await ownerClient(world, T3_MANAGER.name);
    const admin = await ownerClient(world, T3_ADMIN.name);
    const provision = async (by: OwnerClient, body: unknown, approver: OwnerClient): Promise<void> => {
      const asked = await by.send({
        method: 'POST',
        path: '/api/v1/provisioning-requests',
        route: '/api/v1/provisioning-requests',
        body,
      });
      const id = (asked.body as { id?: string } | undefined)?.id;
      if (asked.status !== 201 || !id)
        throw new Error(`T3: provisioning answered ${asked.status} ${asked.code}`);
      const decided = await approver.send({
        method: 'POST',
        path: `/api/v1/provisioning-requests/${id}/approve`,
        route: '/api/v1/provisioning-requests/{id}/approve',
      });
      if (decided.status !== 200) throw new Error(`T3: approving answered ${decided.status} ${decided.code}`);
    };
    await provision(acting, { kind: 'grant_role', accountId: friend.id, role: 'org_manager' }, manager);
    await provision(manager, { kind: 'grant_role', accountId: insider.id, role: 'counselor' }, admin);

    // The insider's own sessions from now on: every request counted; a step-up asked is given.
    const tally = new Tally();
    const attacker = world.client(`${insider.name} (insider)`, tally);
    await world.signIn(attacker, insider);
    let stepUps = 0;
    let ended = false;
    const send = async (a: Attempt): Promise<Exchange | null> => {
      if (ended) return null;
      let call = await attacker.request(a.method, a.path, a.body, { route: a.route });
      if (call.status === 401 && !tally.suspended) {
        await world.signIn(attacker, insider).catch(() => undefined);
        call = await attacker.request(a.method, a.path, a.body, { route: a.route });
      }
      if (call.code === 'step_up_required') {
        const verified = await attacker.post('/api/v1/auth/totp', { code: await world.totpCode(insider) });
        if (verified.status === 200) stepUps += 1;
        call = await attacker.request(a.method, a.path, a.body, { route: a.route });
      }
      if (tally.suspended) ended = true;
      return call;
    };
    const ask = async (filter: Record<string, unknown>): Promise<string | null> => {
      const call = await send({
        method: 'POST',
        path: EXPORTS,
        route: EXPORTS,
        body: { purpose: PURPOSE, fields: FIELDS, filter, recipientOrganisationId: recipient.id },
      });
      return call?.status === 201 ? ((call.body as { export: { id: string } }).export.id ?? null) : null;
    };
    const approve = (client: OwnerClient | null, id: string) => {
      const a: Attempt = { method: 'POST', path: `${EXPORTS}/${id}/approve`, route: `${EXPORT}/approve` };
      return client ? client.send(a) : send(a);
    };
    const produce = (id: string) =>
      send({
        method: 'POST',
        path: `${EXPORTS}/${id}/produce`,
        route: `${EXPORT}/produce`,
        body: { purpose: PURPOSE },
      });
    /** Files obtained: export id → the export as it stood when downloaded. */
    const files = new Map<string, ExportView>();
    const offHoursFiles = new Set<string>();
    const download = async (id: string): Promise<Exchange | null> => {
      const call = await send({ method: 'GET', path: `${EXPORTS}/${id}/file`, route: `${EXPORT}/file` });
      if (call?.status === 200) {
        const listed = await send({ method: 'GET', path: EXPORTS, route: EXPORTS });
        const view = ((listed?.body as { exports?: ExportView[] } | undefined)?.exports ?? []).find(
          (e) => e.id === id,
        );
        files.set(id, view ?? { id, state: 'produced', decidedBy: null, rowCount: null });
        if (isOffHoursNow(world)) offHoursFiles.add(id);
      }
      return call;
    };
    const reason = (call: Exchange | null): string =>
      call
        ? `${call.status}${(call.body as { reason?: string } | undefined)?.reason ? ` ${(call.body as { reason: string }).reason}` : call.code ? ` ${call.code}` : ''}`
        : 'not sent';
    const genuine = new Set([managerMember.id, dpoMember.id]);
    const unapprovedRows = (): number =>
      [...files.values()]
        .filter((f) => f.decidedBy === null || !genuine.has(f.decidedBy))
        .reduce((n, f) => n + (f.rowCount ?? 0), 0);

    world.progress('T3 (a) the control: a small export, approved by the manager, made in the day');
    const today = wallTime(world.clock.now());
    const year = (y: number) => `${y}-01-01`;
    const control = await ask({ statuses: ['registered'], registeredFrom: year(today.year - 1) });
    const controlDecided = control ? await approve(manager, control) : null;
    const controlMade = control ? await produce(control) : null;
    const controlFile = control ? await download(control) : null;
    steps.push(
      step(
        '(a)',
        'a small export approved by the manager, made in the day (the control)',
        controlDecided?.status === 200 && controlMade?.status === 200 && controlFile?.status === 200,
        `asked: ${control ? 201 : 'refused'}; approved: ${reason(controlDecided)}; made: ${reason(controlMade)}` +
          ` (${(controlMade?.body as { export?: ExportView } | undefined)?.export?.rowCount ?? 0} rows); downloaded: ${reason(controlFile)}`,
      ),
    );

    world.progress('T3 (b) a self-approved export of the whole agency');
    const bulk = await ask({});
    const self = bulk ? await approve(null, bulk) : null;
    const selfMade = bulk ? await produce(bulk) : null;
    const selfFile = bulk ? await download(bulk) : null;
    steps.push(
      step(
        '(b)',
        'a self-approved export of the whole agency',
        self?.status === 403 && selfMade?.status !== 200 && selfFile?.status !== 200,
        `approved by the insider: ${reason(self)}; made: ${reason(selfMade)}; downloaded: ${reason(selfFile)}`,
      ),
    );

    world.progress('T3 (c) approved by the friend they made a manager');
    const friendClient = await ownerClient(world, T3_FRIEND.name);
    const byFriend = bulk ? await approve(friendClient, bulk) : null;
    const friendMade = bulk ? await produce(bulk) : null;
    const friendFile = bulk ? await download(bulk) : null;
    steps.push(
      step(
        '(c)',
        'approved by an account the insider provisioned this week',
        byFriend?.status === 403 && friendMade?.status !== 200 && friendFile?.status !== 200,
        `approved by the friend: ${reason(byFriend)}; made: ${reason(friendMade)}; downloaded: ${reason(friendFile)}`,
      ),
    );

    world.progress('T3 (d) the manager approves the bulk export; the insider makes it at night');
    const byManager = bulk ? await approve(manager, bulk) : null;
    await world.clock.set(zonedInstant(date, 21, 0));
    const night = bulk ? await produce(bulk) : null;
    const nightFile = night?.status === 200 && bulk ? await download(bulk) : null;
    let saturday = addDays(date, 1);
    while (weekdayOf(saturday) !== 6) saturday = addDays(saturday, 1);
    await world.clock.set(zonedInstant(saturday, 10, 0));
    const weekend = bulk && night?.status !== 200 ? await produce(bulk) : null;
    const weekendFile = weekend?.status === 200 && bulk ? await download(bulk) : null;
    steps.push(
      step(
        '(d)',
        'an approved bulk export made off-hours: at 21:00, then on Saturday',
        night?.status !== 200 && weekend?.status !== 200 && !nightFile && !weekendFile,
        `approved by the manager: ${reason(byManager)}; at 21:00: ${reason(night)}; Saturday 10:00: ${reason(weekend)}`,
      ),
    );

    world.progress('T3 (e) every week an evening export just under the off-hours size');
    // Slices of registration starts going back from last year, three months each.
    const queue: Slice[] = [];
    for (let q = 0; q < 16; q += 1) {
      const end = new Date(Date.UTC(today.year - 1, 12 - 3 * q, 0));
      const start = new Date(Date.UTC(today.year - 1, 12 - 3 * (q + 1), 1));
      queue.push({ from: start.toISOString().slice(0, 10), to: end.toISOString().slice(0, 10) });
    }
    const before = tally.requests;
    let weeks = 0;
    let evenings = 0;
    let eveningRows = 0;
    let tooLarge = 0;
    let week = addDays(saturday, 3); // the Tuesday after
    while (weeks < WEEKS && !ended && queue.length > 0) {
      weeks += 1;
      while (!isWorkingDay(week)) week = addDays(week, 1);
      await world.clock.set(zonedInstant(week, 10, 0));
      const slice = queue.shift()!;
      const id = await ask({ registeredFrom: slice.from, registeredTo: slice.to });
      if (!id) break;
      const decided = await approve(manager, id);
      if (decided?.status !== 200) break;
      await world.clock.set(zonedInstant(week, 20, 30));
      const made = await produce(id);
      if (made?.status === 200) {
        const file = await download(id);
        if (file?.status === 200) {
          evenings += 1;
          eveningRows += (made.body as { export: ExportView }).export.rowCount ?? 0;
        }
      } else if ((made?.body as { reason?: string } | undefined)?.reason === 'export_off_hours') {
        // Too large for the evening: the slice, halved, for the next weeks.
        tooLarge += 1;
        const mid = new Date((Date.parse(slice.from) + Date.parse(slice.to)) / 2).toISOString().slice(0, 10);
        queue.unshift({ from: slice.from, to: mid }, { from: nextDay(mid), to: slice.to });
      }
      week = addDays(week, 7);
    }
    const status = await world.accountStatus(insider.login);
    if (status === 'suspended') tally.markSuspended();
    steps.push(
      step(
        '(e)',
        'a file every week, each approved, made in the evening just under the size refused after hours',
        tally.suspended,
        `${weeks} weeks, ${evenings} evening files of ${eveningRows} rows (all approved by the manager), ` +
          `${tooLarge} refused as too large for the evening; ` +
          (tally.suspended
            ? `suspended at request ${tally.requestsToSuspension} (${tally.requests - before} in this step)`
            : 'NEVER suspended'),
      ),
    );

    const alerts = await guardAlerts(world, insider);
    remarks.push(
      `${stepUps} step-ups given by the insider on the way`,
      `the guard's alerts on the account: ${describeAlerts(alerts)}`,
      `the account ends the scenario ${status ?? 'in an unknown state'}` +
        (tally.suspended ? `, suspended by ${suspendingSignals(alerts).join(', ') || 'the guard'}` : ''),
    );
    const recordsExposed = unapprovedRows();
    const approvedRows = [...files.values()]
      .filter((f) => f.decidedBy !== null && genuine.has(f.decidedBy))
      .reduce((n, f) => n + (f.rowCount ?? 0), 0);
    const offHoursRows = [...offHoursFiles].reduce((n, id) => n + (files.get(id)?.rowCount ?? 0), 0);
    return {
      id: 'T3',
      title: TITLE,
      passed: steps.every((s) => s.passed) && recordsExposed === 0,
      recordsExposed,
      outsideCaseload: 0,
      // Exports are scored by their own windows, not the account's usual day.
      beyondBaseline: null,
      ...tally.guardFigures(),
      requests: tally.requests,
      steps,
      remarks,
      seconds: (performance.now() - startedAt) / 1000,
      figures: { files: files.size, approvedRows, offHoursRows, stepUpsGiven: stepUps },
    };
  },
};

/** The day after a YYYY-MM-DD day. */
function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

/** Whether the server's time is outside the working hours the seeded agencies keep (08:00–19:00, working days). */
function isOffHoursNow(world: World): boolean {
  const now = wallTime(world.clock.now());
  const date = { year: now.year, month: now.month, day: now.day };
  return !isWorkingDay(date) || now.hour < 8 || now.hour >= 19;
}
