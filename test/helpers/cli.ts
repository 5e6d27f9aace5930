/** Runs the real `rempart` command (bin/rempart.js) in a child process, as an operator would. */
import { type ChildProcess, spawn } from 'node:child_process';
import { cp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/rempart.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment for a command: only what Rempart reads, plus PATH. */
export function cliEnv(vars: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn' };
  for (const [key, value] of Object.entries(vars)) if (value !== undefined) env[key] = value;
  return env;
}

/**
 * Makes env.REMPART_DATA the data folder `rempart init` leaves (keyring 0600, migrated database),
 * for a test of another command that starts from an initialised folder. On PGlite, a copy of the
 * folder test/global-setup.ts made with the real `rempart init` once for the run: initdb and the
 * migrations cost about 5 s per folder, the copy a fraction of a second. On PostgreSQL
 * (env.DATABASE_URL: the test's own database), or when the file runs without the global setup,
 * `rempart init` itself. Tests of init itself, of a command on a fresh machine (seed, serve --demo)
 * and of a folder without a keyring keep running the real thing.
 */
export async function initDataDir(env: NodeJS.ProcessEnv): Promise<void> {
  const template = process.env.REMPART_TEST_DATA_TEMPLATE;
  if (template && env.DATABASE_URL === undefined) {
    await cp(template, env.REMPART_DATA!, { recursive: true, errorOnExist: true, force: false });
    return;
  }
  const result = await rempart(['init'], env);
  if (result.code !== 0) throw new Error(`rempart init failed: ${result.stderr}`);
}

/** Runs `rempart ...args` to completion. */
export function rempart(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<CliResult> {
  const { child, result } = spawnRempart(args, env);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`rempart ${args.join(' ')} timed out`));
    }, timeoutMs);
  });
  return Promise.race([result, timedOut]).finally(() => clearTimeout(timer));
}

/** Starts `rempart ...args`; `result` settles when it exits, however it ends (a kill included). */
export function spawnRempart(
  args: string[],
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; result: Promise<CliResult> } {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const result = new Promise<CliResult>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, result };
}

/** Starts `rempart ...args` in the background (a server); the caller stops it. */
export function startRempart(
  args: string[],
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return { child, output: () => output };
}

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Polls `url` until it answers 200, or fails after `timeoutMs`; returns the elapsed milliseconds. */
export async function waitForOk(url: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    try {
      const response = await fetch(url);
      if (response.status === 200) return Date.now() - started;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > timeoutMs) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The last line of a command's standard output, parsed as JSON (the --json contract). */
export function lastJsonLine(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}
