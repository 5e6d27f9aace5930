/**
 * "Who accessed my record" (docs/DESIGN.md section 10, docs/PORTAL.md): the person's access history
 * from the audit log, each entry with what the page needs to check it was not rewritten: the
 * event's canonical form (the exact bytes of its leaf, src/audit/leaf.ts), its inclusion proof
 * (RFC 6962) against the latest signed checkpoint, and the checkpoint with its verifier key. The
 * console recomputes the leaf hash, the root and the Ed25519 signature in the browser, and shows
 * the entry as read from the canonical form it verified, not from the server's summary.
 *
 * What the canonical form shows beyond the summary: the reading account's and organisation's ids
 * (random UUIDs), the session reference (a hash prefix), the request id, the source address the
 * read came from, the query's shape (never values), a national read's justification, and, for a
 * search that returned several records, the other records' random ids with their field names.
 * None names another person; a random id tells nothing of who it is (docs/PORTAL.md, "Proofs").
 */
import { type AuditCtx, appendAudit } from '../audit/append.ts';
import { canonicalEvent, loadEvents } from '../audit/leaf.ts';
import { inclusionProofFor, latestCheckpoint } from '../audit/proofs.ts';
import { personAccessHistory } from '../audit/scope.ts';
import { systemCtx } from '../context.ts';
import type { Db } from '../db/types.ts';

/** One access to the person's record, with its proof. */
export interface HistoryEntry {
  eventId: string;
  at: string;
  organisationName: string | null;
  role: string | null;
  purpose: string | null;
  action: string;
  fields: string[];
  /** The reading staff member's display name, only with REMPART_PORTAL_SHOW_STAFF_NAMES=on. */
  staffName: string | null;
  /** The event's canonical form (UTF-8 JSON text): SHA-256(0x00 ‖ it) is the leaf hash. */
  canonical: string;
  /** Null while the event is not yet covered by a signed checkpoint (seconds, normally). */
  proof: { leafIndex: number; treeSize: number; leafHash: string; hashes: string[] } | null;
}

/** The history page: the entries and the checkpoint their proofs lead to. */
export interface PersonHistory {
  personId: string;
  entries: HistoryEntry[];
  checkpoint: { treeSize: number; note: string; verifierKey: string } | null;
}

/** How many accesses one page shows (newest first). */
export const HISTORY_PAGE = 100;

/**
 * The person's own history, read in their own transaction (RLS: only links that name them), itself
 * recorded as their access (GDPR art. 15) before it is read, so it shows as "you, just now".
 */
export async function myHistory(
  db: Db,
  personId: string,
  audit: Omit<AuditCtx, 'actor'>,
  options: { verifierKey: string | undefined; showStaffNames: boolean },
): Promise<PersonHistory> {
  const actor = { kind: 'person', personId } as const;
  const { entries, checkpoint } = await db.tx(actor, async (tx) => {
    await appendAudit(
      tx,
      { ...audit, actor },
      {
        action: 'portal.access_history',
        purpose: 'data_subject_access',
        query: {},
        decision: 'allow',
        resultCount: 1,
        persons: [{ personId, fields: ['accessHistory'] }],
      },
    );
    const history = await personAccessHistory(tx, personId, { limit: HISTORY_PAGE });
    return { entries: history, checkpoint: await latestCheckpoint(tx) };
  });
  const ids = entries.map((e) => e.eventId);
  // The canonical form needs every link of each event (a search's other records too), which the
  // person's RLS hides: read by the system actor, for the events the person's own query returned.
  const system = systemCtx('portal-history').actor;
  const { canonical, proofs, names } = await db.tx(system, async (tx) => {
    const loaded = await loadEvents(tx, ids);
    const canonical = new Map(loaded.events.map((e) => [e.id, canonicalEvent(e).toString('utf8')]));
    const proofs = new Map<string, HistoryEntry['proof']>();
    if (checkpoint) {
      const inTree = await tx.query<{ event_id: string }>(
        'SELECT event_id::text FROM audit_leaves WHERE event_id = ANY($1::bigint[]) AND seq < $2',
        [ids, checkpoint.treeSize],
      );
      for (const { event_id } of inTree) {
        const p = await inclusionProofFor(tx, event_id, checkpoint.treeSize);
        proofs.set(event_id, {
          leafIndex: p.leafIndex,
          treeSize: p.treeSize,
          leafHash: p.leafHash,
          hashes: p.proof,
        });
      }
    }
    const names = new Map<string, string>();
    if (options.showStaffNames) {
      const accounts = [...new Set(entries.map((e) => e.accountId).filter((a): a is string => a !== null))];
      const rows = await tx.query<{ id: string; display_name: string }>(
        'SELECT id, display_name FROM accounts WHERE id = ANY($1::uuid[])',
        [accounts],
      );
      for (const row of rows) names.set(row.id, row.display_name);
    }
    return { canonical, proofs, names };
  });
  return {
    personId,
    entries: entries.map((e) => ({
      eventId: e.eventId,
      at: e.at.toISOString(),
      organisationName: e.organisationName,
      role: e.role,
      purpose: e.purpose,
      action: e.action,
      fields: e.fields,
      staffName: e.accountId === null ? null : (names.get(e.accountId) ?? null),
      canonical: canonical.get(e.eventId) ?? '',
      proof: proofs.get(e.eventId) ?? null,
    })),
    checkpoint:
      checkpoint && options.verifierKey
        ? { treeSize: checkpoint.treeSize, note: checkpoint.note, verifierKey: options.verifierKey }
        : null,
  };
}
