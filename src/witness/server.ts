/**
 * `rempart witness serve`: a witness for Rempart's audit log (c2sp.org/tlog-witness), a separate
 * process with its own key and state, meant to run out of the log operator's reach (the DPO's
 * office, a partner). Two routes:
 * - POST /add-checkpoint: cosigns a checkpoint that extends the last one it cosigned (add-checkpoint.ts);
 * - GET /<hex SHA-256 of the origin>/checkpoint: the latest checkpoint it cosigned, with the log's
 *   signature and its own cosignature, so that an auditor can catch a log truncated back to an older
 *   witnessed size (`rempart audit verify --witness-url`).
 * Requests are decided one at a time: checking the old size and persisting the new state is atomic
 * (the race tlog-witness describes would roll the witness back).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Cosigner } from '../audit/cosignature.ts';
import { addCheckpoint, originHash } from './add-checkpoint.ts';
import { readWitnessState, type WitnessState, writeWitnessState } from './files.ts';

/** A checkpoint, its proof and signatures fit in a few kilobytes: anything larger is refused. */
const MAX_BODY_BYTES = 64 * 1024;

/** How a witness runs. */
export interface WitnessOptions {
  cosigner: Cosigner;
  /** The state file (created on the first cosignature). */
  stateFile: string;
  /** The logs it follows: their checkpoint verifier keys (`name+keyid+key`; the name is the origin). */
  logKeys: string[];
  host?: string;
  port?: number;
  /** One line per decision (no personal data: origins, sizes, statuses). */
  log?: (line: string) => void;
  now?: () => Date;
}

/** A running witness. */
export interface RunningWitness {
  url: string;
  close(): Promise<void>;
}

/** Starts the witness's HTTP server; resolves once it listens. */
export async function startWitness(options: WitnessOptions): Promise<RunningWitness> {
  const logs = new Map<string, string>();
  for (const key of options.logKeys) logs.set(key.slice(0, key.indexOf('+')), key);
  let state: WitnessState = await readWitnessState(options.stateFile);
  const log = options.log ?? (() => undefined);
  const now = options.now ?? (() => new Date());
  let queue: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const send = (status: number, body: string, contentType = 'text/plain; charset=utf-8'): void => {
      response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
      response.end(body);
    };
    const url = new URL(request.url ?? '/', 'http://witness');
    if (request.method === 'POST' && url.pathname === '/add-checkpoint') {
      const body = await readBody(request);
      if (body === undefined) return send(413, 'request body too large\n');
      const result = await oneAtATime(async () => {
        const decided = addCheckpoint(body, logs, state, options.cosigner, now());
        if (decided.update) {
          const next: WitnessState = {
            logs: { ...state.logs, [decided.update.origin]: decided.update.state },
          };
          await writeWitnessState(options.stateFile, next); // persisted before the cosignature leaves
          state = next;
        }
        return decided;
      });
      const size = result.update?.state.size;
      log(
        `witness: add-checkpoint ${result.origin ?? '?'} → ${result.status}${size !== undefined ? ` (cosigned size ${size})` : ` ${result.body.trim()}`}`,
      );
      return send(result.status, result.body, result.contentType);
    }
    const monitor = /^\/([0-9a-f]{64})\/checkpoint$/.exec(url.pathname);
    if (request.method === 'GET' && monitor) {
      const entry = Object.entries(state.logs).find(([origin]) => originHash(origin) === monitor[1]);
      if (!entry) return send(404, 'no checkpoint cosigned for this log\n');
      return send(200, entry[1].note);
    }
    send(404, 'not found\n');
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log(`witness: request failed: ${(error as Error).message}`);
      if (!response.headersSent) {
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        response.end('the witness could not record its state\n');
      } else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The request body as UTF-8 text, or undefined past MAX_BODY_BYTES. */
async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
