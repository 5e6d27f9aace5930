/**
 * `rempart serve`: the HTTP server. With --demo (what `npm start` runs), a fresh machine is made
 * ready first: data folder, keyring and database if missing, and a demo population of 10,000
 * persons if the registry is empty.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { type Config, describeDatabase } from '../config.ts';
import { systemCtx } from '../context.ts';
import { openKeys } from '../crypto/open.ts';
import { openDb } from '../db/open.ts';
import { buildConsole, consoleBuildState } from '../http/console-build.ts';
import { startServer } from '../main.ts';
import { seedPopulation } from '../registry/seed.ts';
import {
  createDemoAccounts,
  describeDemoAccounts,
  enrolledDemoLogins,
  howToLogIn,
  readDemoAccounts,
} from './demo-accounts.ts';
import { progress } from './output.ts';

export const DEMO_PERSONS = 10_000;
export const DEMO_SEED = 2024;

/** Prepares the demo data when missing. */
async function prepareDemo(config: Config): Promise<void> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const keys = await openKeys(config, { create: true });
  if (keys.created)
    console.error(
      `rempart: created a keyring at ${keys.keyring.path} (keep it safe: it decrypts the registry)`,
    );
  const db = await openDb(config);
  try {
    const [row] = await db.tx(systemCtx('demo').actor, (tx) =>
      tx.query<{ n: number }>('SELECT count(*)::int AS n FROM persons'),
    );
    if ((row?.n ?? 0) > 0) return;
    console.error(
      `rempart: seeding a demo population of ${DEMO_PERSONS.toLocaleString('en')} synthetic persons`,
    );
    const bar = progress('seeding', true);
    const summary = await seedPopulation(db, keys.registry, {
      persons: DEMO_PERSONS,
      seed: DEMO_SEED,
      onProgress: (done, total) => bar.update(done, total),
    });
    bar.stop();
    console.error(`rempart: ${summary.persons} persons in ${summary.seconds} s`);
    const accounts = await createDemoAccounts(config, db, keys.registry, new Date());
    console.error(`rempart: ${describeDemoAccounts(accounts)}`);
  } finally {
    await db.close();
  }
}

/**
 * Builds the web console when its build is missing or older than web/ (npm start needs no extra
 * step). Without the build tools (a production install), the server serves the API alone and says so.
 */
async function ensureConsole(): Promise<void> {
  const state = await consoleBuildState();
  if (state.fresh) return;
  try {
    const built = await buildConsole({ log: (line) => console.error(line) });
    console.error(`rempart: console built in ${built.seconds} s`);
  } catch (error) {
    console.error(
      `rempart: the console could not be built, serving the API only (${error instanceof Error ? error.message.split('\n')[0] : error})`,
    );
  }
}

/** Starts the server and runs until SIGINT/SIGTERM. */
export async function runServe(config: Config, options: { demo: boolean }): Promise<void> {
  if (options.demo) await prepareDemo(config);
  await ensureConsole();
  const { app, db } = await startServer(config);
  // The address to open is PUBLIC_URL: cookies and WebAuthn belong to its host (by default
  // localhost, which is also where the server listens). The socket addresses follow.
  const url = config.publicUrl;
  const listening = app
    .addresses()
    .map((a) =>
      typeof a === 'string' ? a : a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`,
    );
  console.error(
    `rempart: serving on ${url} (listening on ${[...new Set(listening)].join(', ')}; ${describeDatabase(config)})`,
  );
  console.error(
    `rempart: console at ${url}/ — health at ${url}/api/health, API description at ${url}/api/openapi.json`,
  );
  if (options.demo) {
    const help = howToLogIn(
      url,
      await readDemoAccounts(config),
      path.join(config.dataDir, 'demo-accounts.json'),
      await enrolledDemoLogins(db),
    );
    if (help) console.error(help);
    if (!config.smtpUrl) console.error('rempart: no SMTP_URL: notices are kept in memory, not delivered');
  }
  await new Promise<void>((resolve) => {
    let closing = false;
    const shutdown = (): void => {
      if (closing) process.exit(1); // a second signal: the operator insists
      closing = true;
      app.close().then(resolve, (error: unknown) => {
        console.error('rempart: close failed', error);
        process.exit(1);
      });
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });
}
