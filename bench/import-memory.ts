/**
 * `rempart bench import` and `rempart bench import-memory` (one benchmark, two names): the speed
 * (rows per second, and the import's time by step) and the peak resident memory of `rempart import` on a file of N rows
 * (issue 10 §4: 1,000,000 rows under 300 MB, all or nothing). A throwaway registry (a new PGlite
 * folder, or a new database on the DATABASE_URL server) gets one agency; bench/import-file.ts writes
 * the file; `rempart import FILE --json` runs in a child process of its own, exactly as an operator
 * runs it, and its peak is the kernel's high-water mark of that child (VmHWM, read from
 * /proc/PID/status while it runs, and the child's own getrusage maxRSS at its end). With `served`,
 * a `rempart serve` holds the PGlite folder and the import goes through its socket.
 */
import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { childEnv, freePort } from '../drill/processes.ts';
import type { Config } from '../src/config.ts';
import { systemCtx } from '../src/context.ts';
import { openKeys } from '../src/crypto/open.ts';
import { openDb } from '../src/db/open.ts';
import type { ImportSteps } from '../src/registry/import.ts';
import { upsertOrganisations } from '../src/registry/organisations.ts';
import { writeImportFile } from './import-file.ts';
import { throwaway } from './throwaway.ts';

const BIN = fileURLToPath(new URL('../bin/rempart.js', import.meta.url));
const AGENCY = 'FT-75056';

export interface ImportMemoryOptions {
  rows: number;
  /** The command's name in the summary: `rempart bench import` runs this same benchmark. */
  bench?: 'import' | 'import-memory';
  /** Import through a `rempart serve` sharing the PGlite folder (embedded database only). */
  served?: boolean;
  onStage?: (stage: string) => void;
}

export interface ImportMemorySummary {
  bench: 'import' | 'import-memory';
  engine: 'pglite' | 'postgres';
  served: boolean;
  rows: number;
  imported: number;
  fileMb: number;
  seconds: number;
  rowsPerSecond: number;
  /** Peak resident memory of the importing process (VmHWM), MiB. */
  peakRssMb: number;
  /** CPU time of the importing process, every thread, seconds. */
  cpuSeconds?: number;
  /** The import's own account of its time by step, seconds (src/registry/import.ts). */
  steps?: ImportSteps;
  /** The serving process's peak (VmHWM) when `served`, MiB. */
  serverPeakRssMb?: number;
}

/** Runs the benchmark; throws if the import fails. */
export async function benchImportMemory(
  base: Config,
  options: ImportMemoryOptions,
): Promise<ImportMemorySummary> {
  if (options.served && base.databaseUrl !== undefined)
    throw new Error('--served applies to the embedded database (PGlite): unset DATABASE_URL');
  const { config, cleanup } = await throwaway(base);
  let server: { stop: () => Promise<number> } | undefined;
  try {
    options.onStage?.('preparing the registry');
    await openKeys(config, { create: true });
    const db = await openDb(config);
    const engine = db.kind;
    try {
      await db.tx(systemCtx('bench').actor, (tx) =>
        upsertOrganisations(tx, [
          { code: 'FT-DG', kind: 'national', name: 'France Travail', parentCode: null, department: null },
          {
            code: AGENCY,
            kind: 'agency',
            name: 'France Travail Paris',
            parentCode: 'FT-DG',
            department: '75',
          },
        ]),
      );
    } finally {
      await db.close();
    }
    options.onStage?.(`writing ${options.rows} rows`);
    const file = path.join(config.dataDir, 'import.csv');
    await writeImportFile(file, options.rows, AGENCY);
    const fileMb = Math.round((await stat(file)).size / 1048576);
    const env = childEnv(process.env, {
      DATABASE_URL: config.databaseUrl,
      REMPART_DATA: config.dataDir,
      REMPART_KEYRING: config.keyringPath,
      LOG_LEVEL: 'warn',
      NODE_OPTIONS: process.env.REMPART_BENCH_NODE_OPTIONS,
    });
    if (options.served) {
      options.onStage?.('starting the server');
      server = await startServer(env);
    }
    options.onStage?.('importing');
    const child = await runChild([BIN, 'import', file, '--json'], env);
    const summary = JSON.parse(child.lastLine) as {
      imported: number;
      rows: number;
      seconds: number;
      peakRssMb?: number;
      cpuSeconds?: number;
      steps?: ImportSteps;
    };
    if (summary.imported !== options.rows)
      throw new Error(`imported ${summary.imported} of ${options.rows} rows`);
    const serverPeak = server ? await server.stop() : undefined;
    server = undefined;
    return {
      bench: options.bench ?? 'import-memory',
      engine,
      served: !!options.served,
      rows: summary.rows,
      imported: summary.imported,
      fileMb,
      seconds: summary.seconds,
      rowsPerSecond: Math.round(summary.rows / summary.seconds),
      peakRssMb: Math.max(child.peakMb, summary.peakRssMb ?? 0),
      ...(summary.cpuSeconds === undefined ? {} : { cpuSeconds: summary.cpuSeconds }),
      ...(summary.steps ? { steps: summary.steps } : {}),
      ...(serverPeak === undefined ? {} : { serverPeakRssMb: serverPeak }),
    };
  } finally {
    await server?.stop();
    await cleanup();
  }
}

/** VmHWM of process `pid` in MiB, or 0 once it is gone. */
async function highWaterMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /VmHWM:\s+(\d+)/.exec(status)?.[1];
  return kb === undefined ? 0 : Math.round(Number(kb) / 1024);
}

/** Runs `node args` to its end, watching its VmHWM; returns its last stdout line and its peak. */
async function runChild(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ lastLine: string; peakMb: number }> {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout = (stdout + chunk.toString()).slice(-100_000);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  let peakMb = 0;
  const timer = setInterval(() => {
    void highWaterMb(child.pid!).then((mb) => {
      peakMb = Math.max(peakMb, mb);
    });
  }, 250);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearInterval(timer);
  if (code !== 0) throw new Error(`rempart import exited with ${code}: ${stderr.trim().slice(-2000)}`);
  return { lastLine: stdout.trim().split('\n').at(-1) ?? '', peakMb };
}

/** Starts `rempart serve` on the throwaway folder; `stop` ends it and returns its peak (MiB). */
async function startServer(env: NodeJS.ProcessEnv): Promise<{ stop: () => Promise<number> }> {
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'serve'], {
    env: { ...env, HOST: '127.0.0.1', PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let peakMb = 0;
  const timer = setInterval(() => {
    void highWaterMb(child.pid!).then((mb) => {
      peakMb = Math.max(peakMb, mb);
    });
  }, 250);
  const stop = async (): Promise<number> => {
    clearInterval(timer);
    peakMb = Math.max(peakMb, await highWaterMb(child.pid!));
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    return peakMb;
  };
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`rempart serve exited: ${stderr.trim().slice(-2000)}`);
    const ok = await fetch(`http://127.0.0.1:${port}/api/health`)
      .then((r) => r.arrayBuffer().then(() => r.status === 200))
      .catch(() => false);
    if (ok) return { stop };
    if (Date.now() - started > 120_000) {
      await stop();
      throw new Error(`rempart serve did not answer within 120 s: ${stderr.trim().slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
