/**
 * The `rempart` command as the drill's operator runs it: bin/rempart.js in child processes (seed,
 * account create, serve), with an environment holding only what Rempart reads. `rempart serve` runs
 * with an IPC channel, over which the drill sets the server's simulated time (REMPART_CLOCK=simulated,
 * src/simulated-clock.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { CLOCK_ACK, CLOCK_MESSAGE, CLOCK_REFUSED } from '../src/simulated-clock.ts';

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
  /**
   * Sets the server's simulated time (REMPART_CLOCK=simulated) and resolves with the time it
   * acknowledged; rejects if the server refuses (a time earlier than its own) or does not answer.
   */
  setClock(at: Date, timeoutMs?: number): Promise<Date>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts `rempart serve` (with an IPC channel for the clock) and waits until GET /api/health answers 200. */
export async function startServe(
  env: NodeJS.ProcessEnv,
  url: string,
  timeoutMs = 120_000,
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [BIN, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  // The channel must not keep the drill alive on its own, nor an IPC error end it.
  child.channel?.unref();
  child.on('error', () => undefined);
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
  // One clock setting at a time: answers come back in order.
  let clockQueue: Promise<unknown> = Promise.resolve();
  const sendClock = (at: Date, ms: number): Promise<Date> =>
    new Promise<Date>((resolve, reject) => {
      if (!child.connected) {
        reject(new Error(`rempart serve has no IPC channel (exited?): ${output.trim().slice(-500)}`));
        return;
      }
      const done = (error: Error | null, acknowledged?: Date): void => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        if (error) reject(error);
        else resolve(acknowledged!);
      };
      const onMessage = (message: unknown): void => {
        const m = (message ?? {}) as { type?: unknown; at?: unknown; now?: unknown; reason?: unknown };
        if (m.type === CLOCK_ACK) done(null, new Date(String(m.at)));
        else if (m.type === CLOCK_REFUSED)
          done(
            new Error(
              `the server refused the time ${String(m.at)} (its time: ${String(m.now)}): ${String(m.reason)}`,
            ),
          );
      };
      const onExit = (): void => done(new Error('rempart serve exited before acknowledging the time'));
      const timer = setTimeout(
        () => done(new Error(`rempart serve did not acknowledge the time within ${ms} ms`)),
        ms,
      );
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send({ type: CLOCK_MESSAGE, at: at.toISOString() }, (error) => {
        if (error) done(error);
      });
    });
  const server: ServerProcess = {
    child,
    output: () => output,
    setClock(at, ms = 10_000) {
      const next = clockQueue.then(() => sendClock(at, ms));
      clockQueue = next.catch(() => undefined);
      return next;
    },
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
