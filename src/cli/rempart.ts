/**
 * The `rempart` command. Every command reads the configuration from the environment (src/config.ts);
 * with --json, the last line of standard output is one JSON object, the contract other tools read.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { DRILL_DEFAULTS, SCENARIO_IDS } from '../../drill/defaults.ts';
import { loadConfig } from '../config.ts';
import { LOGIN_PATTERN as LOGIN_TEXT, ROLES, type Role } from '../identity/accounts.ts';
import { isIsoDate, parseIsoDateTime } from '../iso-dates.ts';
import { addImportCommand } from './import-command.ts';
import { printJson, progress, stagedProgress } from './output.ts';
import { newProgram, run } from './program.ts';

// Each command loads its own modules when it runs (`await import` in its action): a command pays
// for its own module graph only, not for the server's, the drill's and the benchmarks' (a
// second or two of start-up per command, on every run an operator or a test makes).

function positiveInteger(name: string) {
  return (value: string): number => {
    const n = Number(value.replace(/_/g, ''));
    if (!/^\d[\d_]*$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
      throw new InvalidArgumentError(`${name} must be a positive integer`);
    }
    return n;
  };
}

function nonNegativeInteger(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n))
      throw new InvalidArgumentError(`${name} must be an integer ≥ 0`);
    return n;
  };
}

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function isoDateTime(value: string): Date {
  const date = parseIsoDateTime(value);
  if (!date)
    throw new InvalidArgumentError('must be an ISO-8601 date-time with an offset, e.g. 2026-11-23T08:00:00Z');
  return date;
}

function isoDate(value: string): string {
  if (!isIsoDate(value)) throw new InvalidArgumentError('must be a date written YYYY-MM-DD');
  return value;
}

const program = newProgram();

program
  .command('init')
  .description('create the data folder, a new keyring (0600, never overwritten) and the database schema')
  .option('--json', 'print a JSON summary as the last line')
  .action((options: { json?: boolean }) =>
    run(!!options.json, async () => {
      const { runInit } = await import('./init.ts');
      const summary = await runInit(loadConfig());
      if (options.json) printJson(summary);
      else console.log(`initialised ${summary.dataDir}: keyring ${summary.keyring}, ${summary.database}`);
    }),
  );

program
  .command('seed')
  .description('add a synthetic French population (creates keyring and database if missing)')
  .requiredOption('--persons <n>', 'number of persons', positiveInteger('--persons'))
  .option(
    '--seed <s>',
    'seed of the generator: the same seed gives the same persons',
    nonNegativeInteger('--seed'),
    1,
  )
  .option('--as-of <date>', 'the date the population is generated as of (YYYY-MM-DD)', isoDate)
  .addOption(
    new Option('--workers <n>', 'worker threads (0: this thread only)').argParser(
      nonNegativeInteger('--workers'),
    ),
  )
  .addOption(
    new Option(
      '--canaries <n>',
      'canary persons to plant among them for the guard (default: two per thousand persons)',
    ).argParser(nonNegativeInteger('--canaries')),
  )
  .option('--json', 'print a JSON summary as the last line')
  .action(
    (options: {
      persons: number;
      seed: number;
      asOf?: string;
      workers?: number;
      canaries?: number;
      json?: boolean;
    }) =>
      run(!!options.json, async () => {
        const { runSeed } = await import('./seed.ts');
        const summary = await runSeed(loadConfig(), { ...options, json: !!options.json });
        const { run } = summary;
        if (options.json) printJson(summary);
        else if (summary.status === 'complete')
          console.log(
            `the registry already holds the population of seed ${run.seed} (${run.persons} persons as of ${run.asOf}): nothing added`,
          );
        else
          console.log(
            `${summary.status === 'resumed' ? 'resumed: added the missing' : 'seeded'} ${summary.persons} persons (${summary.organisations} organisations) in ${summary.seconds} s: ${summary.personsPerSecond} persons/s; ${summary.canaries} canaries planted`,
          );
      }),
  );

addImportCommand(program);

program
  .command('serve')
  .description('serve the HTTP API (HOST, PORT; default localhost:8080)')
  .option('--demo', 'first create the keyring, database and a demo population of 10,000 persons if missing')
  .action((options: { demo?: boolean }) =>
    run(false, async () => {
      const { runServe } = await import('./serve.ts');
      await runServe(loadConfig(), { demo: !!options.demo });
    }),
  );

const account = program.command('account').description('staff accounts (operator)');
account
  .command('create')
  .description(
    'create a staff account (pending second-factor enrolment, then probation), or a batch of them; staff use the API with approval',
  )
  .option('--login <login>', 'login (3–64 letters, digits, . _ -)')
  .option('--organisation <code>', 'code of the organisation (e.g. FT-DG, FT-75056, CE-75)')
  .addOption(new Option('--role <role>', 'role').choices([...ROLES]))
  .option('--email <email>', 'registered address: notices and recovery codes go there')
  .option('--display-name <name>', 'name shown to colleagues')
  .option(
    '--password-file <file>',
    'file holding the password (else REMPART_NEW_PASSWORD); never on the command line',
  )
  .option(
    '--batch <file>',
    'create every account of a JSON-lines file ({login, organisation, role, email, displayName, passwordFile} a line), all or none',
  )
  .option('--json', 'print a JSON summary as the last line')
  .action(
    (
      options: {
        login?: string;
        organisation?: string;
        role?: Role;
        email?: string;
        displayName?: string;
        passwordFile?: string;
        batch?: string;
        json?: boolean;
      },
      command: Command,
    ) => {
      const single = {
        login: '--login <login>',
        organisation: '--organisation <code>',
        role: '--role <role>',
      };
      const more = { email: '--email <email>', displayName: '--display-name <name>' };
      const flags = { ...single, ...more, passwordFile: '--password-file <file>' };
      if (options.batch !== undefined) {
        const mixed = Object.entries(flags).find(([key]) => options[key as keyof typeof flags] !== undefined);
        if (mixed) command.error(`error: option '${mixed[1]}' does not go with --batch (the file gives it)`);
        return run(!!options.json, async () => {
          const { runAccountBatch } = await import('./account.ts');
          const created = await runAccountBatch(loadConfig(), options.batch!);
          if (options.json) printJson(created);
          else console.log(`created ${created.created} accounts: each logs in, then enrols a second factor`);
        });
      }
      const missing = Object.entries({ ...single, ...more }).find(
        ([key]) => options[key as keyof typeof flags] === undefined,
      );
      if (missing)
        command.error(`error: required option '${missing[1]}' not specified (or give --batch <file>)`);
      const one = options as Required<Omit<typeof options, 'passwordFile' | 'batch' | 'json'>> &
        typeof options;
      return run(!!options.json, async () => {
        const { runAccountCreate } = await import('./account.ts');
        const created = await runAccountCreate(loadConfig(), one, process.env);
        if (options.json) printJson(created);
        else
          console.log(
            `created ${created.login} (${created.role}, ${created.organisation}): log in, then enrol a second factor`,
          );
      });
    },
  );

account
  .command('list')
  .description(
    'list staff accounts: login, id, organisation, role, status, second factor enrolled, last login (no password material)',
  )
  .option('--organisation <code>', "only this organisation's accounts")
  .option('--json', 'print {"accounts": [...]} as the last line')
  .action((options: { organisation?: string; json?: boolean }) =>
    run(!!options.json, async () => {
      const { formatAccounts, listAccounts } = await import('./account-list.ts');
      const accounts = await listAccounts(
        loadConfig(),
        options.organisation === undefined ? {} : { organisation: options.organisation },
      );
      if (options.json) printJson({ accounts });
      else console.log(formatAccounts(accounts));
    }),
  );

const portal = program.command('portal').description("the person's portal (docs/PORTAL.md)");
portal
  .command('index-emails')
  .description('fill the email blind index of records written before the portal (run once after upgrading)')
  .option('--json', 'print a JSON summary as the last line')
  .action((options: { json?: boolean }) =>
    run(!!options.json, async () => {
      const { runIndexEmails } = await import('./portal.ts');
      const summary = await runIndexEmails(loadConfig());
      if (options.json) printJson(summary);
      else console.log(`${summary.indexed} email addresses indexed in ${summary.seconds} s`);
    }),
  );

const dbCommand = program.command('db').description('the database itself (docs/SCALING.md)');
dbCommand
  .command('distribute')
  .description(
    'turn the schema into Citus tables (DATABASE_URL on the coordinator, after the migrations): persons and everything per person distributed by person, colocated',
  )
  .option('--json', 'print a JSON summary as the last line')
  .action((options: { json?: boolean }) =>
    run(!!options.json, async () => {
      const { runDistribute } = await import('./distribute.ts');
      const summary = await runDistribute(loadConfig());
      if (options.json) printJson(summary);
      else
        console.log(
          `distributed over ${summary.workers} workers in ${summary.seconds} s: ${summary.distributed.length} tables by person ` +
            `(${summary.shards} shards each), ${summary.reference.length} reference tables, ` +
            `${summary.coordinator.length} tables on the coordinator`,
        );
    }),
  );

program
  .command('reindex')
  .description(
    'recompute the name + birth date search keys of records written before the current name key (resumable; run once after upgrading)',
  )
  .option(
    '--concurrency <n>',
    'batches in flight at once (default 2: one decrypts while another is written; 1 on a busy server)',
    positiveInteger('--concurrency'),
  )
  .option('--json', 'print a JSON summary as the last line')
  .action((options: { concurrency?: number; json?: boolean }) =>
    run(!!options.json, async () => {
      const { runReindex } = await import('./reindex.ts');
      const summary = await runReindex(loadConfig(), {
        json: !!options.json,
        ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
      });
      if (options.json) printJson(summary);
      else if (summary.upToDate) console.log('name keys already up to date: nothing to reindex');
      else
        console.log(
          `${summary.persons} persons and ${summary.archived} archived persons reindexed ` +
            `(${summary.updated} keys changed) in ${summary.seconds} s`,
        );
    }),
  );

const notify = program
  .command('notify')
  .description('notices to the persons of an incident (docs/NOTICES.md)');
notify
  .command('send')
  .description(
    'create and send the notices of an incident (email, letter PDF, SMS, portal): rate-limited, resumable, never twice',
  )
  .requiredOption('--incident <id>', 'the incident id', (value: string) => {
    if (!UUID_TEXT.test(value)) throw new InvalidArgumentError('must be an incident id (a UUID)');
    return value.toLowerCase();
  })
  .option('--json', 'print the delivery report as JSON on the last line')
  .action((options: { incident: string; json?: boolean }) =>
    run(!!options.json, async () => {
      const { runNotifySend } = await import('./notify.ts');
      const report = await runNotifySend(loadConfig(), options.incident);
      if (options.json) printJson(report);
      else console.log(JSON.stringify(report, null, 2));
      // 1 when a notice failed: the operator reruns once the cause is fixed (a rerun retries it).
      if (report.failed > 0) process.exitCode = 1;
    }),
  );

const keys = program.command('keys').description('key management');
keys
  .command('rotate')
  .description('make a new key-encryption key current and re-wrap every data key under it')
  .option(
    '--retire',
    'then remove from the keyring the old keys that no record uses (keep a backup of the old keyring for old database backups)',
  )
  .option('--json', 'print a JSON summary as the last line')
  .action((options: { retire?: boolean; json?: boolean }) =>
    run(!!options.json, async () => {
      const { runRotate } = await import('./keys.ts');
      const summary = await runRotate(loadConfig(), { retire: !!options.retire, json: !!options.json });
      if (options.json) printJson(summary);
      else
        console.log(
          `new key ${summary.kekId}: ${summary.rewrapped} data keys re-wrapped in ${summary.seconds} s` +
            (summary.retired.length > 0 ? `; retired ${summary.retired.join(', ')}` : ''),
        );
    }),
  );

// Notices (T6): rotate their signing key, verify one offline, sign one by hand (docs/NOTICES.md).
keys
  .command('rotate-notices')
  .description('make a new notice signing key current; older notices still verify under the retired keys')
  .option('--json', 'print a JSON summary as the last line')
  .action((options: { json?: boolean }) =>
    run(!!options.json, async () => {
      const { runRotateNotices } = await import('./notice.ts');
      const summary = await runRotateNotices(loadConfig());
      if (options.json) printJson(summary);
      else console.log(`new notice key ${summary.current} (${summary.keys.length} keys published)`);
    }),
  );
const notice = program.command('notice').description('signed notices to persons (docs/NOTICES.md)');
notice
  .command('verify')
  .description('check that a notice file is signed by a notice key and unaltered (exit 0 genuine, 1 not)')
  .argument('<file>', 'the notice as received (text, signature lines included)')
  .option('--keys <file>', "verifier keys as GET /api/v1/notices/keys serves them (default: the keyring's)")
  .option('--json', 'print the result as JSON on the last line')
  .action((file: string, options: { keys?: string; json?: boolean }) =>
    run(!!options.json, async () => {
      const { runNoticeVerify } = await import('./notice.ts');
      const summary = await runNoticeVerify(loadConfig(), file, options);
      if (options.json) printJson(summary);
      else
        console.log(
          summary.genuine
            ? `genuine: signed by ${summary.signedBy}${summary.code ? `; code ${summary.code}` : ''}`
            : `NOT genuine: ${summary.reason}`,
        );
      if (!summary.genuine) process.exitCode = 1;
    }),
  );
notice
  .command('sign')
  .description(
    "sign a notice text with the keyring's current notice key; a {code} in it is replaced by a registered message code",
  )
  .argument('<file>', 'the notice text (UTF-8)')
  .option('--kind <kind>', 'the message kind registered for {code}', 'manual_notice')
  .option('--channel <channel>', 'the channel registered for {code}: email, sms, letter or portal', 'letter')
  .option('--json', 'print {notice, signedBy, code} as JSON on the last line')
  .action((file: string, options: { kind: string; channel: string; json?: boolean }) =>
    run(!!options.json, async () => {
      const { runNoticeSign } = await import('./notice.ts');
      const summary = await runNoticeSign(loadConfig(), file, options);
      if (options.json) printJson(summary);
      else process.stdout.write(summary.notice);
    }),
  );

program
  .command('drill')
  .description(
    'replay the breaches of docs/DESIGN.md section 2 against a fresh throwaway server, through its HTTP API only, after an honest month of simulated work',
  )
  .argument('[ids...]', `scenarios to run (default: all of ${SCENARIO_IDS.join(', ')})`)
  .option(
    '--persons <n>',
    'persons in the throwaway registry',
    positiveInteger('--persons'),
    DRILL_DEFAULTS.persons,
  )
  .option(
    '--honest-accounts <n>',
    'honest accounts working through the honest month before the attacks (0: none)',
    nonNegativeInteger('--honest-accounts'),
    DRILL_DEFAULTS.honestAccounts,
  )
  .option(
    '--honest-days <n>',
    'simulated calendar days of the honest month (only working days have work)',
    positiveInteger('--honest-days'),
    DRILL_DEFAULTS.honestDays,
  )
  .option('--json', 'print a JSON report as the last line')
  .action(
    (
      ids: string[],
      options: { persons: number; honestAccounts: number; honestDays: number; json?: boolean },
    ) =>
      run(!!options.json, async () => {
        const { runDrill } = await import('../../drill/run.ts');
        const { formatReport, toJson } = await import('../../drill/report.ts');
        const report = await runDrill(loadConfig(), {
          ids,
          persons: options.persons,
          honestAccounts: options.honestAccounts,
          honestDays: options.honestDays,
          env: process.env,
          ...(process.stderr.isTTY ? { progress: (line: string) => console.error(`drill: ${line}`) } : {}),
        });
        if (options.json) printJson(toJson(report));
        else console.log(formatReport(report));
        // 0 when every scenario passed (the attacks failed) and the honest month was left alone.
        if (!report.passed) process.exitCode = 1;
      }),
  );

const guard = program
  .command('guard')
  .description('the guard: thresholds and canaries (docs/DESIGN.md section 6)');
guard
  .command('config')
  .description("the guard's effective thresholds (built in, with REMPART_GUARD_CONFIG applied)")
  .option('--role <role>', 'for this role (its entry applies over the defaults)')
  .option('--organisation <code>', "for this organisation's code (its entry applies last)")
  .option('--demo', "for a demo account (`npm start`'s): the demo layer applies after all")
  .option('--markdown', 'print the table of docs/GUARD.md instead of JSON')
  .option('--json', 'print JSON (the default)')
  .action(
    (options: { role?: string; organisation?: string; demo?: boolean; markdown?: boolean; json?: boolean }) =>
      run(!!options.json, async () => {
        const { demoMarkdown, effectiveThresholds, thresholdsMarkdown } = await import('./guard.ts');
        const config = loadConfig();
        const thresholds = effectiveThresholds(config, options.role, options.organisation, !!options.demo);
        if (options.markdown && options.demo) console.log(demoMarkdown(config.guard, options.role));
        else if (options.markdown) console.log(thresholdsMarkdown(thresholds));
        else printJson(thresholds);
      }),
  );
guard
  .command('canaries')
  .description('count the canary persons (operator only); --plant adds more among persons no one follows')
  .addOption(new Option('--plant <n>', 'canaries to add').argParser(positiveInteger('--plant')))
  .option('--seed <s>', 'order in which persons are chosen', nonNegativeInteger('--seed'), 1)
  .option('--json', 'print a JSON summary as the last line')
  .action((options: { plant?: number; seed: number; json?: boolean }) =>
    run(!!options.json, async () => {
      const { runCanaries } = await import('./guard.ts');
      const summary = await runCanaries(loadConfig(), options);
      if (options.json) printJson(summary);
      else console.log(`${summary.canaries} canaries (${summary.planted} planted now)`);
    }),
  );

const audit = program.command('audit').description('the audit log (docs/DESIGN.md section 7)');
audit
  .command('scope')
  .description(
    'which persons and fields these accounts received in a window (breach scope, T7); the run is itself logged',
  )
  .requiredOption(
    '--account <login-or-id>',
    'account login, or id (a UUID: logins never have that form); repeat for several accounts (at most 100)',
    (value: string, previous: string[] | undefined) => {
      if (!UUID_TEXT.test(value) && !LOGIN_TEXT.test(value.trim().toLowerCase()))
        throw new InvalidArgumentError('must be an account login or id (a UUID)');
      return [...(previous ?? []), value.trim().toLowerCase()];
    },
  )
  .requiredOption(
    '--from <date-time>',
    'start of the window, inclusive (ISO-8601 with offset, e.g. 2026-11-23T08:00:00Z)',
    isoDateTime,
  )
  .requiredOption('--to <date-time>', 'end of the window, exclusive (ISO-8601 with offset)', isoDateTime)
  .option(
    '--out <file>',
    'where to write the full scope as JSON (default: data folder/scopes/; with --json: none)',
  )
  .option('--json', 'print the whole scope as JSON on the last line')
  .action((options: { account: string[]; from: Date; to: Date; out?: string; json?: boolean }) =>
    run(!!options.json, async () => {
      const { defaultScopeFile, formatScope, runAuditScope } = await import('./audit-scope.ts');
      const config = loadConfig();
      const now = new Date();
      const out = options.out ?? (options.json ? undefined : defaultScopeFile(config, now));
      const result = await runAuditScope(
        config,
        { accounts: options.account, from: options.from, to: options.to },
        { ...(out === undefined ? {} : { out }), now },
      );
      if (options.json) printJson(result.scope);
      else console.log(formatScope(result));
    }),
  );

audit
  .command('verify')
  .description(
    'sequence what is pending, rebuild the Merkle tree from the events and check every leaf, subtree, signed and published checkpoint; names the first event that does not match',
  )
  .option(
    '--from <date-time>',
    'recompute only events from this time, inclusive (ISO-8601 with offset)',
    isoDateTime,
  )
  .option('--to <date-time>', 'recompute only events before this time (ISO-8601 with offset)', isoDateTime)
  .option('--key <verifier-key>', "checkpoint verifier key (name+id+key); default: the keyring's")
  .option(
    '--witness <witness-key>',
    "require this witness's cosignatures (its verifier key name+id+key); repeatable",
    (value: string, previous: string[] = []) => [...previous, value],
  )
  .option(
    '--witness-url <url>',
    'also ask this witness for its latest cosigned checkpoint (catches a log truncated to an older one); repeatable',
    (value: string, previous: string[] = []) => [...previous, value],
  )
  .option(
    '--workers <n>',
    "worker threads reading and recomputing chunks, each with its own connection (PostgreSQL only; default: the machine's cores; 0: none)",
    nonNegativeInteger('--workers'),
  )
  .option('--json', 'print the report as JSON on the last line')
  .action(
    (options: {
      from?: Date;
      to?: Date;
      key?: string;
      witness?: string[];
      witnessUrl?: string[];
      workers?: number;
      json?: boolean;
    }) =>
      run(!!options.json, async () => {
        const { formatVerifyReport, runAuditVerify } = await import('./audit-verify.ts');
        const bar = progress('verifying', !options.json);
        const report = await runAuditVerify(loadConfig(), {
          ...options,
          onProgress: (done, total) => bar.update(done, total),
          onNotice: (line) => console.error(`rempart: ${line}`),
        });
        bar.stop();
        if (options.json) printJson({ ...report, firstMismatch: report.firstMismatch ?? null });
        else console.log(formatVerifyReport(report));
        // 1 when anything does not match: scripts and monitoring act on it.
        if (!report.ok) process.exitCode = 1;
      }),
  );

const retention = program
  .command('retention')
  .description('retention: archive, crypto-shredding, the DPO report (docs/RETENTION.md)');
retention
  .command('run')
  .description(
    'apply the retention periods as of today: archive deregistered persons, destroy (crypto-shred) those past 20 years and inactive candidate spaces; the server also runs it daily',
  )
  .option('--dry-run', 'count what a run would do, change nothing')
  .option('--as-of <date>', 'with --dry-run: count as of this day (YYYY-MM-DD) instead of today', isoDate)
  .option('--json', 'print the report as JSON on the last line')
  .action((options: { dryRun?: boolean; asOf?: string; json?: boolean }) =>
    run(!!options.json, async () => {
      const { runRetentionCommand } = await import('./retention.ts');
      const report = await runRetentionCommand(loadConfig(), {
        dryRun: !!options.dryRun,
        asOf: options.asOf,
      });
      if (options.json) printJson(report);
      else {
        const a = report.actions;
        console.log(
          `${report.dryRun ? 'would do' : 'done'} as of ${report.asOf}: archive ${a.archive}, destroy ${a.destroy}, expire_candidate ${a.expire_candidate} (${report.scanned} persons, ${report.inconsistent} inconsistent; ${report.exportFilesErased} expired export files erased; ${report.seconds} s)`,
        );
      }
    }),
  );
retention
  .command('report')
  .description(
    "the DPO's retention report: periods, persons by status, what is due now and within 30 days, last runs",
  )
  .option('--json', 'print the report as JSON on the last line')
  .action((options: { json?: boolean }) =>
    run(!!options.json, async () => {
      const { formatOverview, runRetentionReport } = await import('./retention.ts');
      const overview = await runRetentionReport(loadConfig());
      if (options.json) printJson(overview);
      else console.log(formatOverview(overview));
    }),
  );

program
  .command('trace <file>')
  .description(
    'name the export a leaked CSV came from (canary rows, row set), even with columns renamed, reordered or dropped and rows shuffled or sampled (docs/EXPORTS.md)',
  )
  .option(
    '--by <login>',
    'a security officer: the trace is on their record and an incident opens for the export',
  )
  .option('--json', 'print the result as JSON on the last line')
  .action((file: string, options: { by?: string; json?: boolean }) =>
    run(!!options.json, async () => {
      const { formatTrace, runTrace } = await import('./trace.ts');
      const result = await runTrace(loadConfig(), file, options.by);
      if (options.json) printJson(result);
      else console.log(formatTrace(result));
    }),
  );

const incident = program
  .command('incident')
  .description('incidents and the 72-hour notification (docs/INCIDENTS.md)');
incident
  .command('declare')
  .description(
    "declare an incident for a security officer: from accounts and a window (scope from the audit log) or from a leaked CSV file (matched through the blind indexes, on the officer's record)",
  )
  .requiredOption('--by <login>', 'the security officer declaring it (the incident and the match are theirs)')
  .option(
    '--account <login-or-id>',
    'a compromised account (login or id); repeat for several (at most 100)',
    (value: string, previous: string[] = []) => [...previous, value.trim().toLowerCase()],
  )
  .option('--file <csv>', 'a leaked CSV file: a nir, agencyId, or lastName + firstNames + birthDate column')
  .requiredOption('--from <date-time>', 'start of the breach, inclusive (ISO-8601 with offset)', isoDateTime)
  .requiredOption('--to <date-time>', 'end of the breach, exclusive (ISO-8601 with offset)', isoDateTime)
  .option(
    '--detected <date-time>',
    'when it was detected (the 72-hour clock starts); default now',
    isoDateTime,
  )
  .requiredOption('--note <text>', 'why, for the record (10–1000 characters)')
  .option('--json', 'print the result as JSON on the last line')
  .action(
    (options: {
      by: string;
      account?: string[];
      file?: string;
      from: Date;
      to: Date;
      detected?: Date;
      note: string;
      json?: boolean;
    }) =>
      run(!!options.json, async () => {
        const { runDeclare } = await import('./incident.ts');
        const declared = await runDeclare(loadConfig(), options);
        if (options.json) printJson(declared);
        else console.log(`incident ${declared.incidentId} opened: ${declared.personCount} persons`);
      }),
  );
incident
  .command('list')
  .description('the incidents, newest first: counts, categories and the 72-hour clock (no person)')
  .option('--json', 'print {incidents: [...]} as JSON on the last line')
  .action((options: { json?: boolean }) =>
    run(!!options.json, async () => {
      const { formatSummary, runList } = await import('./incident.ts');
      const incidents = await runList(loadConfig());
      if (options.json) printJson({ incidents });
      else console.log(incidents.map(formatSummary).join('\n\n') || 'no incident');
    }),
  );
incident
  .command('show <id>')
  .description('one incident: counts, categories, timeline and the 72-hour clock (no person)')
  .option('--json', 'print the incident as JSON on the last line')
  .action((id: string, options: { json?: boolean }) =>
    run(!!options.json, async () => {
      if (!UUID_TEXT.test(id)) throw new InvalidArgumentError('the incident id must be a UUID');
      const { formatSummary, runShow } = await import('./incident.ts');
      const summary = await runShow(loadConfig(), id.toLowerCase());
      if (options.json) printJson(summary);
      else console.log(formatSummary(summary));
    }),
  );
incident
  .command('draft <id>')
  .description(
    "the authority's notification (GDPR art. 33) draft: every item, what is missing; --pdf saves it",
  )
  .option('--pdf <file>', 'also write the draft as PDF to this file (0600)')
  .option('--json', 'print the draft as JSON on the last line')
  .action((id: string, options: { pdf?: string; json?: boolean }) =>
    run(!!options.json, async () => {
      if (!UUID_TEXT.test(id)) throw new InvalidArgumentError('the incident id must be a UUID');
      const { formatTimeline, runDraft } = await import('./incident.ts');
      const draft = await runDraft(loadConfig(), id.toLowerCase(), options.pdf);
      if (options.json) printJson(draft);
      else {
        const { timeline, ...items } = draft;
        for (const [key, value] of Object.entries(items))
          console.log(
            `${key}: ${typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)}`,
          );
        console.log(formatTimeline(timeline).join('\n'));
      }
    }),
  );

const witness = program
  .command('witness')
  .description("a witness of the audit log, to run out of the log operators' reach (c2sp.org/tlog-witness)");
witness
  .command('init')
  .description("create the witness's Ed25519 key file and print its verifier key (for REMPART_WITNESSES)")
  .requiredOption('--key <file>', 'the key file to create (mode 0600; never overwritten)')
  .requiredOption('--name <name>', 'the witness name, e.g. witness.dpo.example.org')
  .option('--json', 'print {verifierKey} as JSON on the last line')
  .action((options: { key: string; name: string; json?: boolean }) =>
    run(!!options.json, async () => {
      const { runWitnessInit } = await import('./witness.ts');
      const { verifierKey } = await runWitnessInit(options);
      if (options.json) printJson({ verifierKey });
      else console.log(verifierKey);
    }),
  );
witness
  .command('serve')
  .description('cosign the checkpoints of the given logs that extend what this witness last cosigned')
  .requiredOption('--key <file>', "the witness's key file (rempart witness init)")
  .requiredOption(
    '--state <file>',
    'the state file: the latest checkpoint cosigned per log (created if missing)',
  )
  .requiredOption(
    '--log <verifier-key>',
    "a log's checkpoint verifier key (what `rempart audit verify` prints); repeatable",
    (value: string, previous: string[] = []) => [...previous, value],
  )
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--port <port>', 'port to listen on', nonNegativeInteger('--port'), 8090)
  .action((options: { key: string; state: string; log: string[]; host: string; port: number }) =>
    run(false, async () => {
      const { runWitnessServe } = await import('./witness.ts');
      const running = await runWitnessServe(options);
      console.error(`rempart: witness ${running.verifierKey} serving on ${running.url}`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          running.close().then(resolve, resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    }),
  );

const bench = program.command('bench').description('benchmarks (figures go to docs/BENCHMARKS.md)');
bench
  .command('lookup')
  .description('seed a throwaway registry and time lookups by NIR, name + birth date and agency id')
  .option('--persons <n>', 'persons in the throwaway registry', positiveInteger('--persons'), 100_000)
  .option('--seed <s>', 'seed of the population', nonNegativeInteger('--seed'), 7)
  .option('--samples <n>', 'lookups of each kind', positiveInteger('--samples'), 2000)
  .option('--json', 'print a JSON summary as the last line')
  .action((options: { persons: number; seed: number; samples: number; json?: boolean }) =>
    run(!!options.json, async () => {
      const bars = stagedProgress('seeding', 9, !options.json);
      const { benchLookup } = await import('../../bench/lookup.ts');
      const summary = await benchLookup(loadConfig(), { ...options, onProgress: bars.onProgress });
      bars.stop();
      if (options.json) printJson(summary);
      else console.log(JSON.stringify(summary, null, 2));
    }),
  );

bench
  .command('export')
  .description(
    "seed a throwaway registry of N persons in one agency's scope and time one export of every row: the gate's read and audit, canaries, CSV, age encryption, a download",
  )
  .option('--rows <n>', 'persons in the registry, all exported', positiveInteger('--rows'), 100_000)
  .option('--seed <s>', 'seed of the population', nonNegativeInteger('--seed'), 7)
  .option('--json', 'print a JSON summary as the last line')
  .action((options: { rows: number; seed: number; json?: boolean }) =>
    run(!!options.json, async () => {
      const bars = stagedProgress('seeding', 9, !options.json);
      const { benchExport } = await import('../../bench/export.ts');
      const summary = await benchExport(loadConfig(), { ...options, onProgress: bars.onProgress });
      bars.stop();
      if (options.json) printJson(summary);
      else console.log(JSON.stringify(summary, null, 2));
    }),
  );
bench
  .command('retention')
  .description(
    "seed a throwaway registry (deregistrations over 25 years) and time the first retention run, then the next day's",
  )
  .option('--persons <n>', 'persons in the throwaway registry', positiveInteger('--persons'), 100_000)
  .option('--seed <s>', 'seed of the population', nonNegativeInteger('--seed'), 7)
  .option('--json', 'print a JSON summary as the last line')
  .action((options: { persons: number; seed: number; json?: boolean }) =>
    run(!!options.json, async () => {
      const bars = stagedProgress('seeding', 9, !options.json);
      const { benchRetention } = await import('../../bench/retention.ts');
      const summary = await benchRetention(loadConfig(), { ...options, onProgress: bars.onProgress });
      bars.stop();
      if (options.json) printJson(summary);
      else console.log(JSON.stringify(summary, null, 2));
    }),
  );

bench
  .command('seed')
  .description('where the time of rempart seed goes: each stage alone, per person, then the whole pipeline')
  .option(
    '--persons <n>',
    'persons seeded by the pipeline run (the stages use a quarter)',
    positiveInteger('--persons'),
    100_000,
  )
  .option('--seed <s>', 'seed of the population', nonNegativeInteger('--seed'), 7)
  .option('--json', 'print a JSON summary as the last line')
  .action((options: { persons: number; seed: number; json?: boolean }) =>
    run(!!options.json, async () => {
      const { benchSeed } = await import('../../bench/seed.ts');
      const summary = await benchSeed(loadConfig(), options);
      if (options.json) printJson(summary);
      else console.log(JSON.stringify(summary, null, 2));
    }),
  );

// `bench import` and `bench import-memory` run the same benchmark; only the summary's name differs.
for (const [name, what] of [
  ['import', 'speed and peak memory'],
  ['import-memory', 'peak memory'],
] as const) {
  bench
    .command(name)
    .description(
      `${what} of \`rempart import\` (a child process) on a generated file, on a throwaway registry of the configured database`,
    )
    .option('--rows <n>', 'rows in the generated file', positiveInteger('--rows'), 1_000_000)
    .option('--served', 'import through a `rempart serve` sharing the embedded database (PGlite only)')
    .option('--json', 'print a JSON summary as the last line')
    .action((options: { rows: number; served?: boolean; json?: boolean }) =>
      run(!!options.json, async () => {
        const { benchImportMemory } = await import('../../bench/import-memory.ts');
        const summary = await benchImportMemory(loadConfig(), {
          rows: options.rows,
          bench: name,
          served: !!options.served,
          ...(options.json ? {} : { onStage: (stage: string) => console.error(stage) }),
        });
        if (options.json) printJson(summary);
        else console.log(JSON.stringify(summary, null, 2));
      }),
    );
}

bench
  .command('scope')
  .description('fill a throwaway audit log with synthetic events and time breach scopes and person histories')
  .option('--events <n>', 'events in the log', positiveInteger('--events'), 10_000_000)
  .option(
    '--scope-persons <n>',
    'distinct persons the planted breach reached',
    positiveInteger('--scope-persons'),
    5000,
  )
  .option('--json', 'print a JSON summary as the last line')
  .action((options: { events: number; scopePersons: number; json?: boolean }) =>
    run(!!options.json, async () => {
      const bars = stagedProgress('preparing', 28, !options.json);
      const { benchScope } = await import('../../bench/scope.ts');
      const summary = await benchScope(loadConfig(), { ...options, onProgress: bars.onProgress });
      bars.stop();
      if (options.json) printJson(summary);
      else console.log(JSON.stringify(summary, null, 2));
    }),
  );

bench
  .command('verify')
  .description(
    'a throwaway audit log of real events, sequenced and checkpointed as in service, then `audit verify` timed over it',
  )
  .option('--events <n>', 'events in the log', positiveInteger('--events'), 1_000_000)
  .option('--chunk <n>', 'leaves read per verification transaction', positiveInteger('--chunk'), 5000)
  .option(
    '--rounds <n>',
    'verifications of each kind (read ahead, in turn), alternated',
    positiveInteger('--rounds'),
    2,
  )
  .option('--json', 'print a JSON summary as the last line')
  .action((options: { events: number; chunk: number; rounds: number; json?: boolean }) =>
    run(!!options.json, async () => {
      const bars = stagedProgress('preparing', 28, !options.json);
      const { benchVerify } = await import('../../bench/verify.ts');
      const summary = await benchVerify(loadConfig(), { ...options, onProgress: bars.onProgress });
      bars.stop();
      if (options.json) printJson(summary);
      else console.log(JSON.stringify(summary, null, 2));
    }),
  );

bench
  .command('populate')
  .description(
    'build (or resume) a registry at size in the configured database: persons as `rempart seed` seeds them, staff accounts, and an audit log of gate events over MONTHS months, sequenced and checkpointed',
  )
  .requiredOption('--persons <n>', 'persons in the registry', positiveInteger('--persons'))
  .requiredOption('--events <n>', 'audit events', positiveInteger('--events'))
  .option('--accounts <n>', 'staff accounts the events are spread over', positiveInteger('--accounts'), 5000)
  .option('--months <n>', 'months the events span, ending now', positiveInteger('--months'), 24)
  .option('--seed <s>', 'seed of the persons (rempart seed --seed)', nonNegativeInteger('--seed'), 1)
  .option(
    '--chunk <n>',
    'events per transaction (a resumed run keeps its own)',
    positiveInteger('--chunk'),
    500_000,
  )
  .addOption(
    new Option(
      '--loaders <n>',
      'chunks written side by side (default: 2 on a server, 1 on PGlite)',
    ).argParser(positiveInteger('--loaders')),
  )
  .addOption(
    new Option('--workers <n>', 'seeding worker threads (0: this thread only)').argParser(
      nonNegativeInteger('--workers'),
    ),
  )
  .option('--json', 'print a JSON summary as the last line')
  .action(
    (options: {
      persons: number;
      events: number;
      accounts: number;
      months: number;
      seed: number;
      chunk: number;
      loaders?: number;
      workers?: number;
      json?: boolean;
    }) =>
      run(!!options.json, async () => {
        const bars = stagedProgress('persons', 10, !options.json);
        const { benchPopulate } = await import('../../bench/populate.ts');
        const summary = await benchPopulate(loadConfig(), { ...options, onProgress: bars.onProgress });
        bars.stop();
        if (options.json) printJson(summary);
        else console.log(JSON.stringify(summary, null, 2));
      }),
  );

bench
  .command('reads')
  .description(
    'on the population of `bench populate`: `audit scope` of one account over one month, the portal history of its most-read persons, and with --verify `audit verify` over the whole log',
  )
  .option('--accounts <n>', 'accounts whose month is scoped', positiveInteger('--accounts'), 20)
  .option(
    '--rounds <n>',
    'passes over the accounts and persons (the first reported apart)',
    positiveInteger('--rounds'),
    3,
  )
  .option('--verify', 'also time audit verify over the whole log')
  .option('--json', 'print a JSON summary as the last line')
  .action((options: { accounts: number; rounds: number; verify?: boolean; json?: boolean }) =>
    run(!!options.json, async () => {
      const bars = stagedProgress('reads', 9, !options.json);
      const { benchReads } = await import('../../bench/reads.ts');
      const summary = await benchReads(loadConfig(), {
        accounts: options.accounts,
        rounds: options.rounds,
        verify: !!options.verify,
        onProgress: bars.onProgress,
      });
      bars.stop();
      if (options.json) printJson(summary);
      else console.log(JSON.stringify(summary, null, 2));
    }),
  );

bench
  .command('replica')
  .description(
    "on the population of `bench populate` (DATABASE_URL, the primary) and its streaming replica: the lag under the gate's writes, then history and scope reads from both, compared",
  )
  .requiredOption('--standby-url <url>', 'the replica (scripts/standby.sh)')
  .option('--seconds <n>', 'seconds of write load on the primary', positiveInteger('--seconds'), 20)
  .option('--clients <n>', 'concurrent writers', positiveInteger('--clients'), 16)
  .option('--json', 'print a JSON summary as the last line')
  .action((options: { standbyUrl: string; seconds: number; clients: number; json?: boolean }) =>
    run(!!options.json, async () => {
      const bars = stagedProgress('writing', 9, !options.json);
      const { benchReplica } = await import('../../bench/replica.ts');
      const summary = await benchReplica(loadConfig(), { ...options, onProgress: bars.onProgress });
      bars.stop();
      if (options.json) printJson(summary);
      else console.log(JSON.stringify(summary, null, 2));
    }),
  );

bench
  .command('login-timing')
  .description(
    'a throwaway server: failed logins of a real account, an unknown login and a locked account, interleaved; and the tenth failure',
  )
  .option('--tries <n>', 'timed requests of each kind', positiveInteger('--tries'), 200)
  .option('--json', 'print a JSON summary as the last line')
  .action((options: { tries: number; json?: boolean }) =>
    run(!!options.json, async () => {
      const bars = stagedProgress('failed logins', 14, !options.json);
      const { benchLoginTiming } = await import('../../bench/login-timing.ts');
      const summary = await benchLoginTiming(loadConfig(), {
        tries: options.tries,
        onProgress: bars.onProgress,
      });
      bars.stop();
      if (options.json) printJson(summary);
      else console.log(JSON.stringify(summary, null, 2));
      // 1 when the medians differ by more than 5 %: the answer's time tells whether the login exists.
      if (Math.abs(summary.ratio - 1) > 0.05) process.exitCode = 1;
    }),
  );

bench
  .command('leaf')
  .description(
    'the CPU cost of one audit leaf, format v1 against v2 (salted commitments), and of the salt the gate adds per event',
  )
  .option('--events <n>', 'leaves timed of each format and size', positiveInteger('--events'), 50_000)
  .option('--persons <n>', 'persons of the larger event', positiveInteger('--persons'), 20)
  .option('--json', 'print a JSON summary as the last line')
  .action((options: { events: number; persons: number; json?: boolean }) =>
    run(!!options.json, async () => {
      const { benchLeaf } = await import('../../bench/leaf.ts');
      const summary = benchLeaf(options);
      if (options.json) printJson(summary);
      else console.log(JSON.stringify(summary, null, 2));
    }),
  );

bench
  .command('guard-replay')
  .description(
    "the guard's decision code replayed over simulated weeks, no server: honest owners (organisation days and campaigns), then RAMP, COLLUDE and MIMIC beside them",
  )
  .option(
    '--accounts <n>',
    'honest accounts (80 % counselors, 20 % partners)',
    positiveInteger('--accounts'),
    1000,
  )
  .option(
    '--days <n>',
    'working days replayed (5 of warm-up before an attack)',
    positiveInteger('--days'),
    22,
  )
  .option('--seed <n>', 'the draw', positiveInteger('--seed'), 1)
  .option('--json', 'print a JSON summary as the last line')
  .action((options: { accounts: number; days: number; seed: number; json?: boolean }) =>
    run(!!options.json, async () => {
      const { benchGuardReplay } = await import('../../bench/guard-replay.ts');
      const summary = benchGuardReplay(options);
      if (options.json) printJson(summary);
      else console.log(JSON.stringify(summary, null, 2));
    }),
  );

bench
  .command('web')
  .description(
    "what the console's login page downloads on first load in Chromium: scripts and styles, raw and gzipped",
  )
  .option('--page <path>', 'the console path to load', '/connexion')
  .option('--json', 'print a JSON summary as the last line')
  .action((options: { page: string; json?: boolean }) =>
    run(!!options.json, async () => {
      const { benchWeb } = await import('../../bench/web.ts');
      const summary = await benchWeb({ page: options.page });
      if (options.json) printJson(summary);
      else console.log(JSON.stringify(summary, null, 2));
      // 1 when the first load's JavaScript is over the bound (300 kB gzipped).
      if (!summary.withinLimit) process.exitCode = 1;
    }),
  );

bench
  .command('gate')
  .description(
    'counselor searches by NIR over HTTP through the whole gate vs a bare Fastify + pg lookup, on PostgreSQL with durable commits',
  )
  .option('--persons <n>', 'persons in the throwaway registry', positiveInteger('--persons'), 1_000_000)
  .option(
    '--clients <n>',
    'concurrent keep-alive clients (one counselor session each)',
    positiveInteger('--clients'),
    50,
  )
  .option('--seconds <n>', 'measured seconds per server, after a warm-up', positiveInteger('--seconds'), 20)
  .option('--seed <s>', 'seed of the population', nonNegativeInteger('--seed'), 7)
  .option('--cpu-prof-dir <dir>', 'write a V8 CPU profile of the rempart serve child into this folder')
  .option(
    '--populated',
    'on the configured database as it is (a `bench populate` population) instead of a throwaway registry',
  )
  .option('--json', 'print a JSON summary as the last line')
  .action(
    (options: {
      persons: number;
      clients: number;
      seconds: number;
      seed: number;
      cpuProfDir?: string;
      populated?: boolean;
      json?: boolean;
    }) =>
      run(!!options.json, async () => {
        const bars = stagedProgress('seeding', 16, !options.json);
        const { cpuProfDir, ...rest } = options;
        const { benchGate } = await import('../../bench/gate.ts');
        const summary = await benchGate(loadConfig(), {
          ...rest,
          ...(cpuProfDir === undefined ? {} : { cpuProfileDir: cpuProfDir }),
          onProgress: bars.onProgress,
        });
        bars.stop();
        if (options.json) printJson(summary);
        else console.log(JSON.stringify(summary, null, 2));
        if (!summary.postgres.durable)
          console.error(
            'rempart: fsync or synchronous_commit is off on this server: the figures do not count',
          );
        // 1 when any answer was wrong or an answer has no audit event: the figures do not count.
        const audited =
          summary.auditEvents === summary.gateAnswers && summary.auditPersonLinks === summary.gateAnswers;
        if (summary.errors > 0 || !audited) process.exitCode = 1;
      }),
  );

bench
  .command('notify')
  .description(
    'a throwaway registry and an incident of N persons: the notices created, signed and sent to a local SMTP server that verifies each',
  )
  .option('--notices <n>', 'persons in the incident (one notice each)', positiveInteger('--notices'), 100_000)
  .option(
    '--concurrency <n>',
    'sends in flight and SMTP connections, per sending thread',
    positiveInteger('--concurrency'),
    8,
  )
  .option(
    '--threads <n>',
    'sending threads (PostgreSQL only; default 1 there, none on PGlite)',
    positiveInteger('--threads'),
  )
  .option('--json', 'print a JSON summary as the last line')
  .action((options: { notices: number; concurrency: number; threads?: number; json?: boolean }) =>
    run(!!options.json, async () => {
      const { benchNotify } = await import('../../bench/notify.ts');
      const { threads, ...rest } = options;
      const summary = await benchNotify(loadConfig(), {
        ...rest,
        ...(threads === undefined ? {} : { threads }),
        onProgress: (line) => console.error(line),
      });
      if (options.json) printJson(summary);
      else console.log(JSON.stringify(summary, null, 2));
      // 1 when a notice was lost, failed, sent twice or did not verify: the figures do not count.
      const complete = summary.delivered === summary.notices && summary.verified === summary.received;
      if (!complete || summary.duplicates > 0 || summary.failed > 0) process.exitCode = 1;
    }),
  );

await program.parseAsync(process.argv);
