/**
 * Worker thread of `rempart bench notify`: parses each message the bench's SMTP server received,
 * verifies its signed notice against the published keys (the real `verifyNotice`) and counts
 * Message-IDs, off the thread that runs the job and the SMTP server.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { parseMessage } from '../drill/mailbox.ts';
import { verifyNotice } from '../src/crypto/notice-signing.ts';

const keys = (workerData as { verifierKeys: string[] }).verifierKeys;
const port = parentPort!;
const seen = new Set<string>();
const counts = { received: 0, verified: 0, duplicates: 0 };

port.on('message', (message: { raws?: Uint8Array[]; done?: boolean }) => {
  if (message.done) {
    port.postMessage(counts);
    return;
  }
  for (const raw of message.raws ?? []) {
    const parsed = parseMessage(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength));
    counts.received += 1;
    const id = parsed.headers['message-id'] ?? '';
    if (seen.has(id)) counts.duplicates += 1;
    seen.add(id);
    if (verifyNotice(parsed.text, keys).genuine) counts.verified += 1;
  }
});
