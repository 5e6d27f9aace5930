/**
 * The only file that reads process.env (CONVENTIONS.md). Validated once; a bad value stops the
 * process at boot with the reason (docs/DESIGN.md section 12), never a silent default for a secret.
 */
import { isIP } from 'node:net';
import path from 'node:path';
import { cosignatureVerifierFromString } from './audit/cosignature.ts';
import { type ControllerConfig, loadController } from './config-controller.ts';
import { type ExportsConfig, loadExports } from './config-exports.ts';
import { type FranceConnectConfig, loadFranceConnect } from './config-franceconnect.ts';
import { loadNotify, type NotifyConfig } from './config-notify.ts';
import { loadPortal, type PortalConfig } from './config-portal.ts';
import { loadProConnect, type ProConnectConfig } from './config-proconnect.ts';
import { loadRetention, type RetentionConfig } from './config-retention.ts';
import { AppError, type FieldIssue } from './errors.ts';
import { BUILT_IN, type GuardConfig, loadGuardConfig } from './guard/thresholds.ts';
import { setVerifierBase } from './notify/codes.ts';

export type { FranceConnectConfig } from './config-franceconnect.ts';
export type { NotifyConfig } from './config-notify.ts';
export type { ProConnectConfig } from './config-proconnect.ts';

export interface Config {
  /** Folder holding the keyring and, without DATABASE_URL, the PGlite database. */
  dataDir: string;
  /** Path of the local keyring file (0600). */
  keyringPath: string;
  /** PostgreSQL server URL; undefined means embedded PGlite in `dataDir/pglite`. */
  databaseUrl: string | undefined;
  /**
   * Where the server listens (HOST, default `localhost`: every loopback address the name resolves
   * to, so that the default PUBLIC_URL, http://localhost:PORT, reaches it whichever family the
   * client tries first).
   */
  host: string;
  port: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /**
   * LOG_FORMAT: `auto` (default: readable lines when standard output is a terminal, JSON lines
   * otherwise), `json` or `pretty`.
   */
  logFormat: 'auto' | 'json' | 'pretty';
  /**
   * The address staff use to reach Rempart (PUBLIC_URL, default http://localhost:PORT): the WebAuthn
   * relying party id is its host name and the expected origin is its origin. Session cookies belong
   * to this host too: it is the address `rempart serve` prints. WebAuthn refuses an IP address as
   * relying party id, hence `localhost` rather than 127.0.0.1.
   */
  publicUrl: string;
  /** SMTP server for notices (SMTP_URL, smtp://host:port); unset: mail is kept in memory, not delivered. */
  smtpUrl: string | undefined;
  /** Sender of notices (MAIL_FROM). */
  mailFrom: string;
  /** Staff account recovery: hours between the manager's approval and the owner's reset (RECOVERY_DELAY_HOURS, default 24). */
  recoveryDelayHours: number;
  /** Staff sessions (docs/DESIGN.md section 5). */
  sessions: {
    /** A session unused this long is over (SESSION_IDLE_MINUTES, default 15). */
    idleMinutes: number;
    /** A session is over this long after login, used or not (SESSION_MAX_HOURS, default 10). */
    maxHours: number;
    /** A second factor younger than this counts as fresh for sensitive actions (STEP_UP_MINUTES, default 5). */
    stepUpMinutes: number;
  };
  /** The audit log's sequencer and checkpoints (docs/DESIGN.md section 7). */
  audit: {
    /** Sign a checkpoint once this many events are sequenced since the last (REMPART_AUDIT_CHECKPOINT_EVENTS, default 1000). */
    checkpointEvents: number;
    /** ... or once the last checkpoint is this old and events came since (REMPART_AUDIT_CHECKPOINT_SECONDS, default 60). */
    checkpointSeconds: number;
    /** How often the sequencer folds pending events into the tree (REMPART_AUDIT_SEQUENCE_MS, default 500). */
    sequenceMs: number;
    /**
     * Where every signed checkpoint is appended (REMPART_AUDIT_CHECKPOINT_FILE, default
     * <REMPART_DATA>/audit-checkpoints.txt): to be copied out of the database administrators' reach.
     */
    checkpointFile: string;
    /**
     * /api/health says `degraded` and the security officers are alerted once the oldest pending
     * event is this old (REMPART_AUDIT_LAG_ALERT_SECONDS, default 60): events not yet folded are
     * covered by no signed checkpoint.
     */
    lagAlertSeconds: number;
    /**
     * The witnesses every new checkpoint is submitted to (REMPART_WITNESSES: comma-separated
     * `URL=VKEY`, the witness's URL and its cosignature verifier key; default none). c2sp.org/tlog-witness.
     */
    witnesses: WitnessConfig[];
  };
  /** Connections in the PostgreSQL pool (REMPART_DB_POOL_SIZE, default 8); unused on PGlite. */
  databasePoolSize: number;
  /** The guard's thresholds: built in, or the operator's JSON file (REMPART_GUARD_CONFIG; docs/GUARD.md). */
  guard: GuardConfig;
  /**
   * REMPART_GUARD=off runs the gate without the guard (steps 4 and 7): only to measure the guard's
   * cost (`rempart bench gate`); the server warns at start. Default on.
   */
  guardEnabled: boolean;
  /**
   * Where the server's time comes from (REMPART_CLOCK): `system`, or `simulated` — set by the parent
   * process over its IPC channel (src/simulated-clock.ts), so that the drill replays weeks in
   * minutes. Never for a real deployment: sessions, throttles and the guard all run on this time.
   */
  clock: 'system' | 'simulated';
  /**
   * The reverse proxies whose X-Forwarded-For is believed (TRUST_PROXY: comma-separated addresses
   * and CIDR ranges; default none). The client address decides throttles, session records and the
   * guard's address signals: believing the header from anyone would let a client choose its own.
   */
  trustProxy: string[];
  /**
   * ProConnect, the State's identity federation for public-sector agents (docs/SECURITY.md,
   * "Federation"): on when REMPART_PROCONNECT_ISSUER, _CLIENT_ID and _CLIENT_SECRET are all set,
   * off (undefined) when none is. One set without the others stops the server at boot.
   */
  proconnect: ProConnectConfig | undefined;
  /** The person's portal (docs/PORTAL.md): REMPART_PORTAL_* variables. */
  portal: PortalConfig;
  /** Retention (docs/RETENTION.md): REMPART_RETENTION_* variables. */
  retention: RetentionConfig;
  /** Exports (docs/EXPORTS.md): REMPART_EXPORT_* variables. */
  exports: ExportsConfig;
  /**
   * FranceConnect v2, the persons' login to their portal (docs/FRANCECONNECT.md): on when
   * REMPART_FRANCECONNECT_ISSUER, _CLIENT_ID and _CLIENT_SECRET are all set, off when none is.
   */
  franceconnect: FranceConnectConfig | undefined;
  /** The controller and its DPO, named in the authority's notification (REMPART_CONTROLLER_NAME, REMPART_DPO_*). */
  controller: ControllerConfig;
  /** The incident notices' sending job (docs/NOTICES.md): REMPART_NOTIFY_*, REMPART_LETTER_*, REMPART_SMS_DIR. */
  notify: NotifyConfig;
}

/** A witness the server submits checkpoints to (REMPART_WITNESSES). */
export interface WitnessConfig {
  /** Its base URL: POST <url>/add-checkpoint. */
  url: string;
  /** Its cosignature verifier key, `name+keyid+base64(0x04 ‖ key)` (c2sp.org/tlog-cosignature). */
  key: string;
}

/** Parses REMPART_WITNESSES (`URL=VKEY,...`); the message names what is wrong, never a secret. */
export function parseWitnesses(text: string | undefined): { witnesses: WitnessConfig[]; error?: string } {
  const witnesses: WitnessConfig[] = [];
  const entries = (text ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  for (const [i, entry] of entries.entries()) {
    // Entries are named by position: a URL may carry credentials that must not reach a log.
    const at = `entry ${i + 1}`;
    const eq = entry.indexOf('=');
    if (eq < 0) return { witnesses, error: `${at} is not URL=VKEY` };
    const url = entry.slice(0, eq).trim();
    const key = entry.slice(eq + 1).trim();
    try {
      const parsed = new URL(url);
      if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error('scheme');
      if (parsed.username || parsed.password || parsed.search || parsed.hash) throw new Error('extra');
    } catch {
      return { witnesses, error: `${at}: not an http(s) URL without credentials or query` };
    }
    try {
      cosignatureVerifierFromString(key); // name+keyid+base64(0x04 ‖ key), key ID checked
    } catch (error) {
      return { witnesses, error: `${at}: ${(error as Error).message}` };
    }
    if (witnesses.some((w) => w.key === key))
      return { witnesses, error: `${at}: the witness key is listed twice` };
    witnesses.push({ url: url.replace(/\/+$/, ''), key });
  }
  return { witnesses };
}

const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const CLOCKS = ['system', 'simulated'] as const;

/** True for an IP address, or a CIDR range `address/prefix` with a prefix length its family allows. */
export function isAddressOrCidr(text: string): boolean {
  const [address = '', prefix, ...rest] = text.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** Reads and validates the configuration; throws AppError('bad_configuration') naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const issues: FieldIssue[] = [];
  const dataDir = path.resolve(env.REMPART_DATA?.trim() || './data');

  const keyringPath = path.resolve(env.REMPART_KEYRING?.trim() || path.join(dataDir, 'keyring.json'));

  let databaseUrl: string | undefined = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl !== undefined) {
    try {
      const url = new URL(databaseUrl);
      if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
        issues.push({ field: 'DATABASE_URL', message: 'must start with postgres:// or postgresql://' });
      }
    } catch {
      issues.push({ field: 'DATABASE_URL', message: 'is not a valid URL' });
      databaseUrl = undefined;
    }
  }

  const host = env.HOST?.trim() || 'localhost';
  if (!/^[A-Za-z0-9.:[\]-]+$/.test(host))
    issues.push({ field: 'HOST', message: 'is not a host name or address' });

  const portText = env.PORT?.trim() || '8080';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || !Number.isInteger(port) || port < 1 || port > 65535) {
    issues.push({ field: 'PORT', message: 'must be an integer between 1 and 65535' });
  }

  const logLevel = (env.LOG_LEVEL?.trim() || 'info') as Config['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) {
    issues.push({ field: 'LOG_LEVEL', message: `must be one of ${LOG_LEVELS.join(', ')}` });
  }

  const logFormat = (env.LOG_FORMAT?.trim() || 'auto') as Config['logFormat'];
  if (!LOG_FORMATS.includes(logFormat)) {
    issues.push({ field: 'LOG_FORMAT', message: `must be one of ${LOG_FORMATS.join(', ')}` });
  }

  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const text = env[name]?.trim() || String(fallback);
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) {
      issues.push({ field: name, message: `must be an integer between ${min} and ${max}` });
      return fallback;
    }
    return value;
  };
  const validPort = Number.isInteger(port) && port >= 1 && port <= 65535 ? port : 8080;
  let publicUrl = env.PUBLIC_URL?.trim() || `http://localhost:${validPort}`;
  try {
    const url = new URL(publicUrl);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('scheme');
    if (url.protocol === 'http:' && url.hostname !== 'localhost' && url.hostname !== '127.0.0.1') {
      issues.push({ field: 'PUBLIC_URL', message: 'must use https:// (http:// only for localhost)' });
    }
    publicUrl = url.origin;
  } catch {
    issues.push({ field: 'PUBLIC_URL', message: 'is not an http(s) URL' });
  }
  // Every staff message ends with "check it at <PUBLIC_URL>/verifier" (src/notify/codes.ts): the
  // process's messages name the address of the configuration it runs with.
  setVerifierBase(publicUrl);
  const smtpUrl = env.SMTP_URL?.trim() || undefined;
  if (smtpUrl !== undefined && !/^smtps?:\/\/[^\s]+$/.test(smtpUrl)) {
    issues.push({ field: 'SMTP_URL', message: 'must start with smtp:// or smtps://' });
  }
  const mailFrom = env.MAIL_FROM?.trim() || 'Rempart <no-reply@rempart.invalid>';
  const recoveryDelayHours = integer('RECOVERY_DELAY_HOURS', 24, 0, 24 * 14);
  const sessions = {
    idleMinutes: integer('SESSION_IDLE_MINUTES', 15, 1, 120),
    maxHours: integer('SESSION_MAX_HOURS', 10, 1, 24),
    stepUpMinutes: integer('STEP_UP_MINUTES', 5, 1, 30),
  };
  const checkpointFileText = env.REMPART_AUDIT_CHECKPOINT_FILE?.trim() || undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a control character in a path is a mistake
  if (checkpointFileText !== undefined && /[\u0000-\u001f]/.test(checkpointFileText)) {
    issues.push({ field: 'REMPART_AUDIT_CHECKPOINT_FILE', message: 'must be a file path' });
  }
  const audit = {
    checkpointEvents: integer('REMPART_AUDIT_CHECKPOINT_EVENTS', 1000, 1, 1_000_000),
    checkpointSeconds: integer('REMPART_AUDIT_CHECKPOINT_SECONDS', 60, 1, 24 * 3600),
    sequenceMs: integer('REMPART_AUDIT_SEQUENCE_MS', 500, 10, 60_000),
    checkpointFile: path.resolve(checkpointFileText ?? path.join(dataDir, 'audit-checkpoints.txt')),
    lagAlertSeconds: integer('REMPART_AUDIT_LAG_ALERT_SECONDS', 60, 1, 24 * 3600),
    witnesses: [] as WitnessConfig[],
  };
  const witnessList = parseWitnesses(env.REMPART_WITNESSES);
  if (witnessList.error) issues.push({ field: 'REMPART_WITNESSES', message: witnessList.error });
  else audit.witnesses = witnessList.witnesses;
  const databasePoolSize = integer('REMPART_DB_POOL_SIZE', 8, 1, 100);
  const guardSwitch = env.REMPART_GUARD?.trim() || 'on';
  if (guardSwitch !== 'on' && guardSwitch !== 'off') {
    issues.push({ field: 'REMPART_GUARD', message: 'must be on or off' });
  }
  const guardEnabled = guardSwitch !== 'off';
  let guard = BUILT_IN;
  try {
    guard = loadGuardConfig(env.REMPART_GUARD_CONFIG?.trim() || undefined);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    issues.push({ field: 'REMPART_GUARD_CONFIG', message: error.message });
  }
  const clock = (env.REMPART_CLOCK?.trim() || 'system') as Config['clock'];
  if (!CLOCKS.includes(clock)) {
    issues.push({ field: 'REMPART_CLOCK', message: `must be one of ${CLOCKS.join(', ')}` });
  }
  const trustProxy = (env.TRUST_PROXY ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (trustProxy.some((entry) => !isAddressOrCidr(entry))) {
    issues.push({
      field: 'TRUST_PROXY',
      message: 'must be comma-separated IP addresses or CIDR ranges (e.g. 10.0.0.5,192.168.0.0/16)',
    });
  }
  const proconnect = loadProConnect(env, publicUrl, issues);
  const portal = loadPortal(env, issues);
  const retention = loadRetention(env, issues);
  const exports = loadExports(env, issues);
  const franceconnect = loadFranceConnect(env, publicUrl, issues);
  const controller = loadController(env, issues);
  const notify = loadNotify(env, dataDir, issues);

  if (issues.length > 0) {
    const reasons = issues.map((i) => `${i.field} ${i.message}`).join('; ');
    throw new AppError('bad_configuration', `bad configuration: ${reasons}`, { issues });
  }
  return {
    dataDir,
    keyringPath,
    databaseUrl,
    host,
    port,
    logLevel,
    logFormat,
    publicUrl,
    smtpUrl,
    mailFrom,
    recoveryDelayHours,
    sessions,
    audit,
    databasePoolSize,
    clock,
    trustProxy,
    guard,
    guardEnabled,
    proconnect,
    portal,
    retention,
    exports,
    franceconnect,
    controller,
    notify,
  };
}

/** A short description for logs and the CLI: never prints credentials from DATABASE_URL. */
export function describeDatabase(config: Config): string {
  if (config.databaseUrl === undefined) return `PGlite in ${path.join(config.dataDir, 'pglite')}`;
  const url = new URL(config.databaseUrl);
  return `PostgreSQL at ${url.hostname || 'local socket'}${url.port ? `:${url.port}` : ''}${url.pathname}`;
}
