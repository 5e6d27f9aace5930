/**
 * Where an account logs in from: the network (IPv4 /24, IPv6 /64) and the device (user agent) of
 * each new session, remembered per account as hashes salted with the account id. A session opened
 * from a network or device the account has not used for `newSourceDays` carries a flag
 * (`sessions.guard_flags`): the guard then shrinks its volume levels for that session
 * (newSourceFactor). The very first login of an account carries none: there is nothing to compare
 * with, and a new account is on probation anyway.
 */
import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { Tx } from '../db/types.ts';

export type SourceFlag = 'new_address' | 'new_device';

/** The network part of an address: /24 for IPv4, /64 for IPv6 (a home or office, not one machine). */
export function networkOf(address: string): string {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIPv4(v4)) return `${v4.split('.').slice(0, 3).join('.')}.0/24`;
  if (isIPv6(address)) {
    const [head = '', tail = ''] = address.split('::');
    const left = head ? head.split(':') : [];
    const right = tail ? tail.split(':') : [];
    const full = address.includes('::')
      ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
      : address.split(':');
    return `${full
      .slice(0, 4)
      .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
      .join(':')}::/64`;
  }
  return address;
}

function sourceHash(accountId: string, kind: string, value: string): Buffer {
  return createHash('sha256').update(`${accountId}\u0000${kind}\u0000${value}`, 'utf8').digest();
}

/**
 * Notes the session's network and device for the account and returns the flags of what was new.
 * Runs in the login's transaction.
 */
export async function noteSources(
  tx: Tx,
  accountId: string,
  source: { address?: string | undefined; userAgent?: string | undefined },
  now: Date,
  newSourceDays: number,
): Promise<SourceFlag[]> {
  const given: { kind: 'address' | 'device'; flag: SourceFlag; hash: Buffer }[] = [];
  if (source.address) {
    given.push({
      kind: 'address',
      flag: 'new_address',
      hash: sourceHash(accountId, 'address', networkOf(source.address)),
    });
  }
  if (source.userAgent) {
    given.push({
      kind: 'device',
      flag: 'new_device',
      hash: sourceHash(accountId, 'device', source.userAgent.slice(0, 200)),
    });
  }
  if (given.length === 0) return [];
  // What the account used before this login: whether it has any history, and when each of these was last seen.
  const rows = await tx.query<{
    kind: string;
    hash: Uint8Array | null;
    last_seen: Date | null;
    known: number;
  }>(
    `SELECT k.kind, s.hash, s.last_seen,
            (SELECT count(*)::int FROM guard_sources h WHERE h.account_id = $1 AND h.kind = k.kind) AS known
     FROM unnest($2::text[], $3::bytea[]) AS k(kind, hash)
     LEFT JOIN guard_sources s ON s.account_id = $1 AND s.kind = k.kind AND s.hash = k.hash`,
    [accountId, given.map((g) => g.kind), given.map((g) => g.hash)],
  );
  const since = now.getTime() - newSourceDays * 86_400_000;
  const flags: SourceFlag[] = [];
  for (const g of given) {
    const row = rows.find((r) => r.kind === g.kind);
    if (!row || row.known === 0) continue;
    if (row.hash === null || row.last_seen === null || row.last_seen.getTime() < since) flags.push(g.flag);
  }
  await tx.query(
    `INSERT INTO guard_sources (account_id, kind, hash, first_seen, last_seen)
     SELECT $1, kind, hash, $4, $4 FROM unnest($2::text[], $3::bytea[]) AS k(kind, hash)
     ON CONFLICT (account_id, kind, hash) DO UPDATE SET last_seen = EXCLUDED.last_seen`,
    [accountId, given.map((g) => g.kind), given.map((g) => g.hash), now],
  );
  return flags;
}
