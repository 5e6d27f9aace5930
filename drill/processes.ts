/**
 * The `rempart` command as the drill's operator runs it: bin/rempart.js in child processes (seed,
 * account create, serve), with an environment holding only what Rempart reads.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../bin/rempart.js', import.meta.url));

/** The environment of a child: PATH, HOME and TMPDIR from ours, then `vars`. */
export function childEnv(
  parent: NodeJS.ProcessEnv,
  vars: Record<string, string | undefined>,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'SystemRoot']) {
    if (parent[name] !== undefined) env[name] = parent[name];
  }
  for (const [name, value] of Object.entries(vars)) if (value !== undefined) env[name] = value;
  return env;
}

/** Runs `rempart ...args` to completion; throws with its standard error if it fails. Returns its last stdout line as JSON. */
export function rempartJson(
  args: string[],
  env: NodeJS.ProcessEnv,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<Record<string, unknown>> {
  const { signal, timeoutMs = 300_000 } = options;
  return new Promise((resolve, reject) => {
    // An aborted signal (the drill interrupted) ends the child with SIGTERM.
    const child = spawn(process.execPath, [BIN, ...args, '--json'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(signal ? { signal } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      // Aborted: 'close' follows once the child has exited, and rejects then.
      if (signal?.aborted) return;
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, exitSignal) => {
      clearTimeout(timer);
      const what = `rempart ${args.slice(0, 2).join(' ')}`;
      if (signal?.aborted) return reject(new Error(`${what} interrupted`));
      if (code !== 0) {
        return reject(
          new Error(`${what} failed (${exitSignal ?? `exit ${code}`}): ${stderr.trim().slice(-2000)}`),
        );
      }
      const last = stdout.trim().split('\n').at(-1) ?? '';
      try {
        resolve(JSON.parse(last) as Record<string, unknown>);
      } catch {
        reject(new Error(`${what} printed no JSON line`));
      }
    });
  });
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

/** A `rempart serve` child process. */
export interface ServerProcess {
  child: ChildProcess;
  /** What it printed (both streams), for error messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts `rempart serve` and waits until GET /api/health answers 200. */
export async function startServe(
  env: NodeJS.ProcessEnv,
  url: string,
  timeoutMs = 120_000,
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [BIN, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const server: ServerProcess = {
    child,
    output: () => output,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`rempart serve exited before answering: ${output.trim().slice(-2000)}`);
    }
    try {
      const response = await fetch(`${url}/api/health`);
      await response.arrayBuffer();
      if (response.status === 200) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > timeoutMs) {
      await server.stop();
      throw new Error(`rempart serve did not answer within ${timeoutMs} ms: ${output.trim().slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}
