/**
 * `rempart bench login-timing`: does the time of a failed login tell whether the login exists
 * (T1, docs/SECURITY.md "No account enumeration")? A throwaway server (in this process, its mail going to a
 * real SMTP server on loopback) answers, over HTTP on one keep-alive connection, three kinds of
 * failed login, interleaved in rotating order: a real account with a wrong password, an unknown
 * login, and a real account locked by ten failures. Every request of a kind is the same bytes
 * (the three logins have the same length, so the bodies and headers differ only in the login).
 *
 * Every answer must be 401. Before each request the bench puts the throttle back where the kind
 * needs it (counters of the login and of the address at zero; the locked account's key locked),
 * outside the timed span: otherwise the shared loopback address would be backed off after three
 * failures and every kind would time the same refusal. Then the tenth failure, which locks and, for
 * the real account, queues the owner's mail: the real account's and an unknown login's, alternately;
 * each real lock mail must arrive (it is sent after the answer, by the server's outbox job).
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { openMailbox } from '../drill/mailbox.ts';
import { freePort } from '../drill/processes.ts';
import type { Config } from '../src/config.ts';
import { systemCtx } from '../src/context.ts';
import { openKeys } from '../src/crypto/open.ts';
import type { Db } from '../src/db/types.ts';
import { createAccount } from '../src/identity/accounts.ts';
import { LOCK_AT_FAILURE } from '../src/identity/throttle.ts';
import { startServer } from '../src/main.ts';
import { percentile } from './lookup.ts';
import { throwaway } from './throwaway.ts';

export interface LoginTimingOptions {
  /** Timed requests of each kind. */
  tries: number;
  onProgress?: (stage: string, done: number, total: number) => void;
}

export interface LoginTimingSummary {
  bench: 'login-timing';
  engine: Db['kind'];
  tries: number;
  knownP50Ms: number;
  unknownP50Ms: number;
  /** unknownP50Ms ÷ knownP50Ms: within 0.95-1.05, the median does not tell. */
  ratio: number;
  lockedP50Ms: number;
  knownP90Ms: number;
  unknownP90Ms: number;
  lockedP90Ms: number;
  /** Tenth failures timed, half on the real account, half on an unknown login. */
  lockingTries: number;
  lockingKnownP50Ms: number;
  lockingUnknownP50Ms: number;
  lockingRatio: number;
  /** Lock mails received by the SMTP server (one per real tenth failure). */
  lockMailsDelivered: number;
}

const KNOWN = 'bench.known1';
const UNKNOWN = 'bench.nobody';
const LOCKED = 'bench.locked';
const ADDRESS = '127.0.0.1';
const WARM_UP = 20;
type Kind = 'known' | 'unknown' | 'locked';
const LOGIN: Record<Kind, string> = { known: KNOWN, unknown: UNKNOWN, locked: LOCKED };
const system = systemCtx('bench').actor;

/** Puts the counters of `keys` at `failures`, blocked until `until` (null: not blocked). */
async function setThrottle(
  db: Db,
  keys: [scope: 'account' | 'address', key: string][],
  failures: number,
  until: Date | null,
): Promise<void> {
  await db.tx(system, async (tx) => {
    for (const [scope, key] of keys) {
      await tx.query(
        `INSERT INTO auth_throttle (scope, key, failures, last_failure_at, blocked_until) VALUES ($1, $2, $3, now(), $4)
         ON CONFLICT (scope, key) DO UPDATE SET failures = $3, blocked_until = $4`,
        [scope, key, failures, until],
      );
    }
  });
}

/** One POST of `body` on the keep-alive agent; resolves with the status and the milliseconds. */
function post(agent: http.Agent, port: number, body: Buffer): Promise<{ status: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const request = http.request(
      {
        agent,
        host: ADDRESS,
        port,
        method: 'POST',
        path: '/api/v1/auth/login',
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      },
      (response) => {
        response.resume();
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, ms: performance.now() - start }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

const round3 = (ms: number): number => Math.round(ms * 1000) / 1000;
const median = (values: number[]): number =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
const p90 = (values: number[]): number =>
  percentile(
    [...values].sort((a, b) => a - b),
    90,
  );

/** Runs the bench on a throwaway database of the configured engine. */
export async function benchLoginTiming(
  config: Config,
  options: LoginTimingOptions,
): Promise<LoginTimingSummary> {
  const mailbox = await openMailbox();
  const temporary = await throwaway(config);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const served: Config = {
      ...temporary.config,
      host: ADDRESS,
      port: await freePort(),
      logLevel: 'silent',
      smtpUrl: mailbox.url,
      trustProxy: [],
    };
    await openKeys(served, { create: true });
    const { app, db, url } = await startServer(served);
    try {
      const port = Number(new URL(url).port);
      const organisationId = crypto.randomUUID();
      await db.tx(system, async (tx) => {
        await tx.query('INSERT INTO organisations (id, kind, code, name) VALUES ($1, $2, $3, $3)', [
          organisationId,
          'cap_emploi',
          'BENCH-LOGIN',
        ]);
        for (const login of [KNOWN, LOCKED]) {
          await createAccount(
            tx,
            {
              organisationId,
              login,
              displayName: `Bench ${login}`,
              email: `${login}@bench.example`,
              role: 'partner_counselor',
              password: 'granite lantern orchard 57',
            },
            new Date(),
            null,
          );
        }
      });
      const body = (login: string): Buffer =>
        Buffer.from(JSON.stringify({ login, password: 'not the password, 42' }));
      const bodies: Record<Kind, Buffer> = {
        known: body(KNOWN),
        unknown: body(UNKNOWN),
        locked: body(LOCKED),
      };
      const prepare = async (kind: Kind, failures: number): Promise<void> => {
        await setThrottle(db, [['address', ADDRESS]], 0, null);
        if (kind === 'locked') {
          await setThrottle(db, [['account', LOCKED]], LOCK_AT_FAILURE, new Date(Date.now() + 3_600_000));
        } else {
          await setThrottle(db, [['account', LOGIN[kind]]], failures, null);
        }
      };
      const once = async (kind: Kind, failures = 0): Promise<number> => {
        await prepare(kind, failures);
        const { status, ms } = await post(agent, port, bodies[kind]);
        if (status !== 401) throw new Error(`a ${kind} login answered ${status}, not 401`);
        return ms;
      };

      // Rotating orders: each kind is as often first, second and third, after each other kind.
      const orders: Kind[][] = [
        ['known', 'unknown', 'locked'],
        ['unknown', 'locked', 'known'],
        ['locked', 'known', 'unknown'],
        ['known', 'locked', 'unknown'],
        ['locked', 'unknown', 'known'],
        ['unknown', 'known', 'locked'],
      ];
      const times: Record<Kind, number[]> = { known: [], unknown: [], locked: [] };
      const total = WARM_UP + options.tries;
      for (let i = 0; i < total; i += 1) {
        for (const kind of orders[i % orders.length]!) {
          const ms = await once(kind);
          if (i >= WARM_UP) times[kind].push(ms);
        }
        options.onProgress?.('failed logins', i + 1, total);
      }

      // The tenth failure: a lock (and, for the real account, a mail queued and sent after the answer).
      const lockingTries = Math.max(20, 2 * Math.ceil(options.tries / 10));
      const locking: Record<'known' | 'unknown', number[]> = { known: [], unknown: [] };
      let expectedMails = 0;
      for (let i = 0; i < lockingTries; i += 1) {
        const kind = i % 4 === 0 || i % 4 === 3 ? 'known' : 'unknown';
        locking[kind].push(await once(kind, LOCK_AT_FAILURE - 1));
        if (kind === 'known') {
          expectedMails += 1;
          // The mail leaves after the answer; wait for it so that it does not overlap the next try.
          const arrived = await mailbox.waitFor(`${KNOWN}@bench.example`, () => true, {
            skip: expectedMails - 1,
            timeoutMs: 10_000,
          });
          if (!arrived) throw new Error('a lock mail did not arrive within 10 s');
        }
        options.onProgress?.('tenth failures', i + 1, lockingTries);
      }

      const knownP50Ms = median(times.known);
      const unknownP50Ms = median(times.unknown);
      const lockingKnownP50Ms = median(locking.known);
      const lockingUnknownP50Ms = median(locking.unknown);
      return {
        bench: 'login-timing',
        engine: db.kind,
        tries: options.tries,
        knownP50Ms: round3(knownP50Ms),
        unknownP50Ms: round3(unknownP50Ms),
        ratio: Math.round((unknownP50Ms / knownP50Ms) * 10_000) / 10_000,
        lockedP50Ms: round3(median(times.locked)),
        knownP90Ms: round3(p90(times.known)),
        unknownP90Ms: round3(p90(times.unknown)),
        lockedP90Ms: round3(p90(times.locked)),
        lockingTries,
        lockingKnownP50Ms: round3(lockingKnownP50Ms),
        lockingUnknownP50Ms: round3(lockingUnknownP50Ms),
        lockingRatio: Math.round((lockingUnknownP50Ms / lockingKnownP50Ms) * 10_000) / 10_000,
        lockMailsDelivered: mailbox.to(`${KNOWN}@bench.example`).length,
      };
    } finally {
      await app.close();
    }
  } finally {
    agent.destroy();
    await temporary.cleanup();
    await mailbox.close();
  }
}
