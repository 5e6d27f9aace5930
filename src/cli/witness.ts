/**
 * `rempart witness init` and `rempart witness serve`: a witness of Rempart's audit log (src/witness,
 * c2sp.org/tlog-witness), to run on another machine than the log, by someone the log's operators do
 * not control. It needs no database and no Rempart configuration: a key file, a state file, and the
 * log's checkpoint verifier key.
 */
import { verifierKeyFromString } from '../audit/checkpoint.ts';
import { AppError } from '../errors.ts';
import { createWitnessKey, readWitnessKey } from '../witness/files.ts';
import { type RunningWitness, startWitness } from '../witness/server.ts';

/** Creates the witness's key file; returns its cosignature verifier key (to put in REMPART_WITNESSES). */
export async function runWitnessInit(options: {
  key: string;
  name: string;
}): Promise<{ verifierKey: string }> {
  const cosigner = await createWitnessKey(options.key, options.name);
  return { verifierKey: cosigner.verifierKey };
}

/** Starts the witness for the given logs; resolves once it listens. */
export async function runWitnessServe(options: {
  key: string;
  state: string;
  log: string[];
  host: string;
  port: number;
}): Promise<RunningWitness & { verifierKey: string }> {
  const cosigner = await readWitnessKey(options.key);
  for (const key of options.log) {
    try {
      verifierKeyFromString(key);
    } catch (error) {
      throw new AppError(
        'validation_failed',
        `--log ${JSON.stringify(key.split('+')[0])}: ${(error as Error).message}`,
        {
          field: 'log',
        },
      );
    }
  }
  const running = await startWitness({
    cosigner,
    stateFile: options.state,
    logKeys: options.log,
    host: options.host,
    port: options.port,
    log: (line) => console.error(`rempart: ${line}`),
  });
  return { ...running, verifierKey: cosigner.verifierKey };
}
