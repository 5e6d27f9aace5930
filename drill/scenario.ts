/**
 * What a drill scenario is: an id from docs/DESIGN.md section 2, the staff accounts it needs (created by
 * the operator before the server starts, each with an enrolled authenticator app), and an attack
 * that runs against the live server through its HTTP API only, returning a ScenarioResult.
 * Adding a scenario is one file in drill/scenarios/ and one line in drill/scenarios/index.ts.
 */
import type { DrillClient, Exchange, Tally } from './client.ts';
import type { HonestOwner } from './honest.ts';
import type { CaseloadNotes } from './leak.ts';
import type { Mailbox } from './mailbox.ts';
import type { ScenarioResult } from './report.ts';
import type { Workstation } from './workstations.ts';

/**
 * A staff account a scenario needs: created with `rempart account create` in the first organisation
 * of that kind (or the one `organisationRank` names).
 */
export interface CastSpec {
  /** The scenario's name for it (`victim`, `helpdesk`); scenarios sharing a name share the account. */
  name: string;
  role: string;
  /** Organisation kind (`cap_emploi`, `national`, …); the seeded population's first of that kind. */
  organisationKind: string;
  /**
   * Which organisation of that kind, 0-based in the seeded population's order (default 0, the first):
   * a scenario that measures an organisation as a whole (COLLUDE) takes one no other scenario works in.
   */
  organisationRank?: number;
  /**
   * The operator notes this account's organisation's caseload, and the attacker holds identities of
   * persons inside and outside it (an earlier leak): World.caseload(name). Setup knowledge only.
   */
  leak?: boolean;
}

/** A staff account of the drill, with what its legitimate owner knows. */
export interface StaffMember {
  name: string;
  id: string;
  login: string;
  password: string;
  /** The registered address: its mail arrives in the drill's mailbox. */
  email: string;
  role: string;
  organisation: string;
  /** The owner's authenticator app (TOTP secret), enrolled before the attack. */
  secret: string;
  /** The owner's ten recovery codes. */
  recoveryCodes: string[];
  /** The last TOTP step the owner used (the server refuses a code of that step or older). */
  lastStep: number;
  /** The owner's office workstation: the address and browser of their sessions. */
  workstation: Workstation;
}

/**
 * The server's simulated time (REMPART_CLOCK=simulated), as the drill drives it. It flows with real
 * time between settings and only moves forward. Before the first setting it reads the real time.
 */
export interface DrillClock {
  /** The simulated time now. */
  now(): Date;
  /** Sets the server's time (waits for its acknowledgement); throws for a time earlier than now. */
  set(at: Date): Promise<void>;
  /** Moves the time forward by `ms`. */
  advance(ms: number): Promise<void>;
}

/** Where a new client's requests come from (default: the workstation of whoever signs in on it, else outside). */
export interface ClientOptions {
  /** X-Forwarded-For: the address the server sees. */
  address?: string;
  /** The User-Agent header. */
  userAgent?: string;
}

/** How an operator command runs. */
export interface OperatorOptions {
  /**
   * False for a command that opens no database (keyring only, e.g. `rempart notice sign` of a text
   * without {code}): on PGlite the server then keeps running (default true: it is stopped).
   */
  database?: boolean;
}

/** The running world a scenario attacks. */
export interface World {
  /** `http://localhost:PORT`. */
  baseUrl: string;
  /** The staff's mailboxes (a real local SMTP server). */
  mailbox: Mailbox;
  /** The persons seeded. */
  persons: number;
  /** A staff account of the cast, by name. */
  staff(name: string): StaffMember;
  /**
   * The honest month's owners (empty without one): accounts with a month of history, for a scenario
   * that steals one — its plan's `dailyMean` is the account's normal daily volume (beyondBaseline),
   * its passkey and client are the owner's. The honest month fills it before the scenarios run.
   */
  readonly honestOwners: HonestOwner[];
  /** The server's simulated time. */
  clock: DrillClock;
  /**
   * A new HTTP client (a fresh browser or script); pass the attacker's tally to count its requests.
   * Without an address, it comes from outside (drill/workstations.ts) until an owner signs in on it
   * (signIn), which seats it at the owner's workstation; a given address and browser are kept.
   */
  client(label: string, tally?: Tally, options?: ClientOptions): DrillClient;
  /**
   * The owner's next TOTP code at the simulated time, never of a step already used (the clock
   * moves on 30 s rather than waiting when needed: a code is never accepted twice).
   */
  totpCode(member: StaffMember): Promise<string>;
  /** The owner logs in with password and authenticator app, from their workstation; throws if that fails. */
  signIn(client: DrillClient, member: StaffMember): Promise<Exchange>;
  /**
   * An account's status as the security officers see it (GET /api/v1/accounts from the drill's
   * security officer's session): how the drill learns that the guard suspended an account, which
   * the attacker itself cannot tell from any other refusal. Undefined if the route is not there.
   */
  accountStatus(login: string): Promise<string | undefined>;
  /**
   * What the operator noted before the server started about the caseload of this cast member's
   * organisation (a cast spec with `leak: true`); throws for any other.
   */
  caseload(name: string): CaseloadNotes;
  /**
   * Runs `rempart ...args --json` as the operator, on the drill's data folder and database; returns
   * its last line. On PGlite (one process) the server is stopped for the command and started again
   * on the same address; sessions live in the database and survive.
   */
  operator(args: string[], options?: OperatorOptions): Promise<Record<string, unknown>>;
  /** A progress line (on a terminal only). */
  progress(line: string): void;
}

/** A scenario of the drill. */
export interface Scenario {
  /** As in docs/DESIGN.md section 2: `T1`, `T2`, … */
  id: string;
  /** Scenarios run together under one name (`COLLUDE` runs COLLUDE-2 and COLLUDE-5). */
  group?: string;
  title: string;
  cast: CastSpec[];
  run(world: World): Promise<ScenarioResult>;
}
