/**
 * What a drill scenario is: an id from DESIGN.md section 2, the staff accounts it needs (created by
 * the operator before the server starts, each with an enrolled authenticator app), and an attack
 * that runs against the live server through its HTTP API only, returning a ScenarioResult.
 * Adding a scenario is one file in drill/scenarios/ and one line in drill/scenarios/index.ts.
 */
import type { DrillClient, Exchange, Tally } from './client.ts';
import type { CaseloadNotes } from './leak.ts';
import type { Mailbox } from './mailbox.ts';
import type { ScenarioResult } from './report.ts';

/** A staff account a scenario needs: created with `rempart account create` in the first organisation of that kind. */
export interface CastSpec {
  /** The scenario's name for it (`victim`, `helpdesk`); scenarios sharing a name share the account. */
  name: string;
  role: string;
  /** Organisation kind (`cap_emploi`, `national`, …); the seeded population's first of that kind. */
  organisationKind: string;
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
  /** A new HTTP client (a fresh browser or script); pass the attacker's tally to count its requests. */
  client(label: string, tally?: Tally): DrillClient;
  /** The owner's next TOTP code (waits for a new step if needed: a code is never accepted twice). */
  totpCode(member: StaffMember): Promise<string>;
  /** The owner logs in with password and authenticator app; throws if that fails. */
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
  operator(args: string[]): Promise<Record<string, unknown>>;
  /** A progress line (on a terminal only). */
  progress(line: string): void;
}

/** A scenario of the drill. */
export interface Scenario {
  /** As in DESIGN.md section 2: `T1`, `T2`, … */
  id: string;
  title: string;
  cast: CastSpec[];
  run(world: World): Promise<ScenarioResult>;
}
