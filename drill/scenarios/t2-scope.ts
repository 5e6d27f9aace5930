/**
 * T2-scope (docs/DESIGN.md section 2, T2; the 2024 breach): the attacker holds a partner counselor's
 * live session, second factor included — the victim logged in with password and authenticator
 * app, and the session cookie and CSRF token were copied into the attacker's client (malware,
 * a shared workstation). It also holds identities of persons outside the victim organisation's
 * caseload (the 2023 leak). With that session it
 * (a) checks the session is fully authenticated;
 * (b) reads persons of the caseload (the control: the session works);
 * (c) searches for the outside persons by NIR, agency id, name + birth date, with each purpose,
 *     everyday and national with a plausible justification, and with cap and spelling variants;
 * (d) reads them by their real ids, upper-cased ids and guessed ids: view, national view, contact
 *     change, each purpose;
 * (e) walks every operation of the API document with values aimed at them, the session routes
 *     (/api/v1/auth/*) excepted;
 * (f) reads the caseload again (the session survived the attack — unless the guard suspended the
 *     account on the way, which the step then reports);
 * (g) walks the session routes, logouts last.
 * Every answer is recorded: each person id received and the fields received for it. It passes when
 * no person outside the caseload came back (outsideCaseload 0) and the inside persons did
 * (recordsExposed > 0: a dead session cannot pass by refusing everything).
 * T7 (t7.ts) reuses this attack, run once per drill: see `scopeAttack`.
 */
import { Tally } from '../client.ts';
import { listOperations } from '../openapi.ts';
import { notesOf, type ScenarioResult, type StepResult } from '../report.ts';
import type { CastSpec, Scenario, StaffMember, World } from '../scenario.ts';
import { apiFacts, insideControl, outsideReads, outsideSearches } from '../steps/scope-probe.ts';
import { walkAll, walkSessionRoutes } from '../steps/scope-walk.ts';
import { step } from '../steps/stolen-password.ts';

/** The victim: a partner counselor whose organisation's caseload the drill notes before the attack. */
export const SCOPE_VICTIM: CastSpec = {
  name: 't2-victim',
  role: 'partner_counselor',
  organisationKind: 'cap_emploi',
  leak: true,
};

const TITLE =
  'a partner counselor’s live session, second factor included, reaching outside its caseload (2024)';

/** The purpose a partner counselor works under every day (the list's entry for its role). */
const EVERYDAY = 'accompaniment';

/** What the attack did and received: the T2-scope result, and what T7 compares with the audit log. */
export interface ScopeAttack {
  result: ScenarioResult;
  victim: StaffMember;
  /** Person id → fields received, every answer of the attack. */
  received: ReadonlyMap<string, ReadonlySet<string>>;
  /** The simulated time (the server's) around the attack, the victim's login included. */
  startedAt: Date;
  endedAt: Date;
}

const attacks = new WeakMap<World, Promise<ScopeAttack>>();

/** The attack on this world, run once: the first scenario asking for it (T2-scope or T7) runs it. */
export function scopeAttack(world: World): Promise<ScopeAttack> {
  let attack = attacks.get(world);
  if (!attack) {
    attack = runAttack(world);
    attacks.set(world, attack);
  }
  return attack;
}

/** True once the attack has run (or started) on this world. */
export function scopeAttacked(world: World): boolean {
  return attacks.has(world);
}

async function runAttack(world: World): Promise<ScopeAttack> {
  const id = 'T2-scope';
  const startedAt = world.clock.now();
  const started = performance.now();
  const victim = world.staff(SCOPE_VICTIM.name);
  const notes = world.caseload(SCOPE_VICTIM.name);
  const tally = new Tally();
  tally.knownPersons = new Set([
    ...notes.caseload,
    ...notes.inside.map((p) => p.id),
    ...notes.outside.map((p) => p.id),
  ]);
  // Malware on the victim's workstation, or the same shared workstation: the copied session is used
  // from the victim's address and browser. This scenario measures the gate's scope; what the guard
  // makes of a session that moves to another address is T2's and the guard's tests' business.
  const attacker = world.client('attacker', tally, victim.workstation);
  const steps: StepResult[] = [];
  const remarks: string[] = [
    `${victim.organisation}: ${notes.caseload.size} persons in the current caseload; the attacker knows ` +
      `${notes.inside.length} of them and ${notes.outside.length} outside (${kinds(notes.outside.map((p) => p.kind))})`,
  ];

  world.progress(`${id} (a) the victim logs in; the attacker copies the session`);
  const owner = world.client('victim (owner)');
  await world.signIn(owner, victim);
  attacker.adopt(owner);
  const me = await attacker.get('/api/v1/me');
  const assurance = (me.body as { assurance?: string } | undefined)?.assurance;
  steps.push(
    step(
      '(a)',
      'stolen session, second factor included',
      me.status === 200 && assurance === 'mfa',
      `the copied session answers GET /api/v1/me ${me.status} at assurance ${assurance ?? 'none'}`,
    ),
  );
  const operations = await listOperations(attacker);
  const facts = apiFacts(operations);

  world.progress(`${id} (b) persons of the caseload (control)`);
  steps.push(
    await insideControl(attacker, notes.inside, EVERYDAY, '(b)', 'persons of the caseload (control)'),
  );
  world.progress(`${id} (c) searches for persons outside the caseload`);
  steps.push(await outsideSearches(attacker, notes.outside, facts, EVERYDAY));
  world.progress(`${id} (d) reads and contact changes by id`);
  steps.push(await outsideReads(attacker, notes.outside, facts));
  world.progress(`${id} (e) every operation of the API document`);
  steps.push(await walkAll(attacker, operations, notes.outside, facts, EVERYDAY));
  world.progress(`${id} (f) persons of the caseload again`);
  const again = await insideControl(
    attacker,
    notes.inside,
    EVERYDAY,
    '(f)',
    'persons of the caseload again (session alive)',
  );
  // The guard may end the session on the way (a suspension: issue 5). The scope held up to it, and
  // a suspended account reaching nobody afterwards is the point; the control then says so rather
  // than failing, and the remarks count the refusals that came from the ended session.
  const suspendedAt = tally.requestsToSuspension;
  steps.push(
    !again.passed && suspendedAt !== null
      ? step(
          '(f)',
          'persons of the caseload again (session alive, or ended by the guard)',
          true,
          `the guard suspended the account at request ${suspendedAt} of the attack (its session ended); ${again.note}`,
        )
      : again,
  );
  // Refusals because the session had ended, before the session routes end it on purpose.
  const ended = tally.exchanges.filter((e) => e.code === 'unauthenticated').length;
  world.progress(`${id} (g) the session routes, last`);
  steps.push(await walkSessionRoutes(attacker, operations, notes.outside));
  const endedAt = world.clock.now();

  const received = new Map([...tally.received].map(([person, fields]) => [person.toLowerCase(), fields]));
  const exposed = new Set([...tally.persons].map((person) => person.toLowerCase()));
  for (const person of received.keys()) exposed.add(person);
  const outside = [...exposed].filter((person) => !notes.caseload.has(person));
  const refused = tally.exchanges.filter((e) => e.status >= 400).length;
  const fields = new Set([...received.values()].flatMap((f) => [...f]));
  remarks.push(
    `the attacker received ${exposed.size} persons: ` +
      (outside.length === 0 ? 'all in the caseload' : `${outside.length} OUTSIDE the caseload`) +
      `; fields received: ${[...fields].sort().join(', ') || 'none'}`,
    `${refused} of ${tally.requests} requests refused` +
      (ended > 0 ? `, ${ended} of them because the session had ended` : ''),
  );
  const passed = outside.length === 0 && exposed.size > 0 && steps.every((s) => s.skipped || s.passed);
  const result: ScenarioResult = {
    id,
    title: TITLE,
    passed,
    recordsExposed: exposed.size,
    outsideCaseload: outside.length,
    // The victim's account was created for the drill and has no history: no daily volume to exceed.
    beyondBaseline: null,
    ...tally.guardFigures(),
    requests: tally.requests,
    steps,
    remarks,
    seconds: (performance.now() - started) / 1000,
    figures: { refused },
  };
  world.progress(`${id} ${passed ? 'passed' : 'FAILED'}: ${notesOf(result).slice(0, 200)}…`);
  return { result, victim, received, startedAt, endedAt };
}

/** `former caseload ×3, other partner ×3`: the kinds of outside persons. */
function kinds(list: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const kind of list) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return [...counts].map(([kind, n]) => `${kind} ×${n}`).join(', ');
}

export const t2Scope: Scenario = {
  id: 'T2-scope',
  title: TITLE,
  cast: [SCOPE_VICTIM],
  async run(world) {
    return (await scopeAttack(world)).result;
  },
};
