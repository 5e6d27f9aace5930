/** Server entry point: loadConfig → openDb → buildApp → listen; nothing else (CONVENTIONS.md). */
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { startSequencer } from './audit/sequencer.ts';
import { type Config, loadConfig } from './config.ts';
import { openKeys } from './crypto/open.ts';
import { openDb } from './db/open.ts';
import type { Db } from './db/types.ts';
import { isAppError } from './errors.ts';
import { buildApp } from './http/app.ts';
import { outboxMailer, smtpMailer } from './notify/mailer.ts';

/** Opens the database, builds the app and listens; closing the app closes the database. */
export async function startServer(config: Config): Promise<{ app: FastifyInstance; db: Db; url: string }> {
  // The keyring must be there and sound before anything listens: refuse to start otherwise.
  const keys = await openKeys(config);
  const db = await openDb(config);
  const mailer = config.smtpUrl ? smtpMailer({ url: config.smtpUrl, from: config.mailFrom }) : outboxMailer();
  let app: FastifyInstance;
  try {
    app = await buildApp(config, { db, kms: keys.kms, registry: keys.registry, mailer });
  } catch (error) {
    await db.close();
    throw error;
  }
  // The audit sequencer folds new events into the Merkle tree and signs checkpoints, also appended
  // to the checkpoint file (DESIGN.md section 7). Several server processes may run one each: a
  // database lock lets one work at a time.
  const sequencer = startSequencer(db, {
    signer: keys.checkpointSigner,
    ...config.audit,
    onError: (error) => app.log.error({ err: error }, 'audit sequencer failed; retrying'),
  });
  app.addHook('onClose', async () => {
    await sequencer
      .flush()
      .catch((error: unknown) => app.log.error({ err: error }, 'audit sequencer flush failed'));
    await sequencer.stop();
    await mailer.close();
    await db.close();
  });
  try {
    const url = await app.listen({ host: config.host, port: config.port });
    return { app, db, url };
  } catch (error) {
    await app.close();
    throw error;
  }
}

async function main(): Promise<void> {
  const { app } = await startServer(loadConfig());
  let closing = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    // A second signal while closing: the operator insists, stop now.
    if (closing) process.exit(1);
    closing = true;
    app.log.info({ signal }, 'closing');
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'close failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  main().catch((error: unknown) => {
    // A bad configuration (or an unreachable database) is the operator's to fix: one line, the
    // reason, no stack trace (DESIGN.md section 12). AppError messages carry no personal data.
    if (isAppError(error)) {
      console.error(`rempart: ${error.message.replace(/\s+/g, ' ')}`);
    } else {
      console.error(error);
    }
    process.exit(1);
  });
}
