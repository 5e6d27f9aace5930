/**
 * CPU time per request for `rempart bench gate` (issue 15: "the round trips and CPU per request —
 * server, PostgreSQL, load client — before and after"): user + system time of a server process and of
 * the PostgreSQL server's processes (its postmaster and every child: the backends of the pool) read
 * from /proc on Linux, and of the bench process itself (the load client), around a measured load.
 * Elsewhere, or when PostgreSQL's data folder is not readable (a server on another machine), the
 * figures it cannot read are null.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Milliseconds per clock tick of /proc's times (USER_HZ, 100 on Linux unless told otherwise). */
const TICK_MS = (() => {
  try {
    return 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  } catch {
    return 10;
  }
})();

/** A process's parent id and its user + system CPU in ms, or null (gone, or no /proc). */
function stat(pid: number): { ppid: number; cpuMs: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: the fields after it start past its ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // Fields 4 (ppid), 14 (utime) and 15 (stime) of proc(5), counted from the state (field 3) here.
    return { ppid: Number(fields[1]), cpuMs: (Number(fields[11]) + Number(fields[12])) * TICK_MS };
  } catch {
    return null;
  }
}

/** The CPU ms of a process and of its direct children (PostgreSQL's backends are the postmaster's). */
function treeCpuMs(root: number): number | null {
  const own = stat(root);
  if (!own) return null;
  let total = own.cpuMs;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const child = stat(Number(entry));
    if (child && child.ppid === root) total += child.cpuMs;
  }
  return total;
}

/** The postmaster's pid from the data folder PostgreSQL reports, or null when it cannot be read here. */
export function postmasterPid(dataDirectory: string): number | null {
  try {
    const pid = Number(readFileSync(path.join(dataDirectory, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 && stat(pid) ? pid : null;
  } catch {
    return null;
  }
}

/** CPU ms per request of the server, PostgreSQL and the load client (null: not measurable here). */
export interface CpuPerRequest {
  server: number | null;
  postgres: number | null;
  client: number;
}

/** CPU totals at one moment. */
interface Sample {
  server: number | null;
  postgres: number | null;
  client: number;
}

/** Sums the CPU spent by a server, PostgreSQL and this process over measured loads. */
export class CpuMeter {
  readonly #serverPid: number | undefined;
  readonly #postmaster: number | null;
  #spent = { server: 0 as number | null, postgres: 0 as number | null, client: 0 };
  #requests = 0;

  constructor(serverPid: number | undefined, postmaster: number | null) {
    this.#serverPid = serverPid;
    this.#postmaster = postmaster;
  }

  #sample(): Sample {
    const usage = process.cpuUsage();
    return {
      server: this.#serverPid === undefined ? null : (stat(this.#serverPid)?.cpuMs ?? null),
      postgres: this.#postmaster === null ? null : treeCpuMs(this.#postmaster),
      client: (usage.user + usage.system) / 1000,
    };
  }

  /** Runs one measured load and adds what it spent; `requests` counts its answers. */
  async measure<T>(load: () => Promise<T>, requests: (result: T) => number): Promise<T> {
    const before = this.#sample();
    const result = await load();
    const after = this.#sample();
    const add = (a: number | null, b: number | null, sum: number | null): number | null =>
      a === null || b === null || sum === null ? null : sum + (b - a);
    this.#spent = {
      server: add(before.server, after.server, this.#spent.server),
      postgres: add(before.postgres, after.postgres, this.#spent.postgres),
      client: this.#spent.client + (after.client - before.client),
    };
    this.#requests += requests(result);
    return result;
  }

  /** CPU ms per request over every measured load (two decimals). */
  perRequest(): CpuPerRequest {
    const per = (ms: number | null): number | null =>
      ms === null || this.#requests === 0 ? null : Math.round((ms / this.#requests) * 100) / 100;
    return {
      server: per(this.#spent.server),
      postgres: per(this.#spent.postgres),
      client: per(this.#spent.client) ?? 0,
    };
  }
}
