/**
 * An approved export's file (T3; docs/EXPORTS.md): the rows read through the gate (gate-exports.ts:
 * one audit event naming every person and field, with the export's id), canary rows unique to this
 * export (canaries.ts), a row order keyed by the export (the watermark), as CSV with every cell made
 * inert for spreadsheets, encrypted with age to the recipient organisation's registered key. The
 * plaintext never leaves the process; the ciphertext is kept until the export expires, and every
 * download is an audit event.
 */
import { createHash, createHmac } from 'node:crypto';
import { Encrypter } from 'age-encryption';
import { stringify } from 'csv-stringify/sync';
import type { GateCtx, GateDeps, PersonView } from '../access/gate.ts';
import { maskNir, passGate } from '../access/gate.ts';
import { DEFAULT_EXPORTS } from '../access/gate-exports.ts';
import type { ViewField } from '../access/policy.ts';
import { appendAudit } from '../audit/append.ts';
import { AppError } from '../errors.ts';
import { neutraliseCell } from '../registry/import.ts';
import type { Identity } from '../registry/person.ts';
import type { RegistryKeys } from '../registry/persons.ts';
import { makeCanaries, recordCanaries } from './canaries.ts';
import { recipientKey } from './recipients.ts';
import { auditCtxOf, type ExportView, exportById } from './requests.ts';

/** One cell of a person's field, as text (a spreadsheet-safe rendering comes after). */
export function cellOf(view: PersonView, field: ViewField): string {
  const value = (view as unknown as Record<string, unknown>)[field];
  if (value === null || value === undefined) return '';
  if (field === 'address') {
    const a = value as NonNullable<Identity['address']>;
    return `${a.line}, ${a.postalCode} ${a.city}`;
  }
  if (field === 'birthPlace') {
    const p = value as Identity['birthPlace'];
    return 'communeCode' in p ? `${p.commune} (${p.communeCode})` : `${p.country} (${p.countryCode})`;
  }
  if (field === 'registrationPeriods') {
    return (value as { startedOn: string; endedOn: string | null }[])
      .map((r) => `${r.startedOn}..${r.endedOn ?? ''}`)
      .join(';');
  }
  return String(value);
}

/** A canary identity as a row of the export's fields (a registered person with one open period). */
function canaryView(identity: Identity, producedAt: Date): PersonView {
  const year = producedAt.getUTCFullYear() - 1;
  return {
    id: '',
    ...identity,
    nirMasked: maskNir(identity.nir),
    status: 'registered',
    registrationPeriods: [
      { startedOn: `${year}-0${1 + (identity.nir.charCodeAt(7) % 9)}-1${identity.nir[8]}`, endedOn: null },
    ],
  };
}

/**
 * The watermark: rows sorted by HMAC(export key, row text), the export key derived from the
 * registry's blind-index key and the export id. Two exports of the same rows come out in different,
 * reproducible orders; only Rempart can recompute one. It survives re-encoding and renamed columns
 * but not a shuffle or re-sort (docs/EXPORTS.md: canaries and the row set carry the trace then).
 */
export function watermarkOrder(keys: RegistryKeys, exportId: string, lines: string[][]): string[][] {
  const key = createHmac('sha256', keys.blindIndex.name_birth)
    .update(`rempart export order ${exportId}`)
    .digest();
  const rank = (line: string[]) => createHmac('sha256', key).update(line.join('\u001f')).digest('hex');
  return lines
    .map((line) => ({ line, r: rank(line) }))
    .sort((a, b) => (a.r < b.r ? -1 : a.r > b.r ? 1 : 0))
    .map((x) => x.line);
}

/** The CSV text of an export: a header of field names, then the rows, every cell neutralised. */
export function exportCsv(fields: readonly ViewField[], lines: string[][]): string {
  return stringify([[...fields], ...lines.map((line) => line.map(neutraliseCell))], {
    record_delimiter: 'unix',
  });
}

/**
 * Produces an approved export: the requester, under the purpose they declare, reads its rows through
 * the gate (once), the file is built and stored encrypted for the recipient; returns the export.
 */
export async function produceExport(
  deps: GateDeps,
  ctx: GateCtx,
  exportId: string,
  purpose: string,
): Promise<ExportView> {
  const config = deps.exports ?? DEFAULT_EXPORTS;
  // The recipient's key first: without one, nothing is read.
  const key = await deps.db.tx(auditCtxOf(ctx, deps.clock.now()).actor, async (tx) => {
    const [row] = await tx.query<{ recipient_organisation_id: string }>(
      'SELECT recipient_organisation_id FROM export_requests WHERE id = $1 AND requested_by = $2',
      [exportId, ctx.accountId],
    );
    return row ? recipientKey(tx, row.recipient_organisation_id) : null;
  });
  if (key === undefined)
    throw new AppError(
      'conflict',
      'the recipient organisation has no registered age key (POST /api/v1/exports/recipients)',
      { reason: 'no_recipient_key' },
    );
  const read = await passGate(deps, ctx, { action: 'person.export', purpose, exportId });
  const canaries = makeCanaries(config.canaryRows).map((c) => canaryView(c, read.producedAt));
  const lines = watermarkOrder(
    deps.keys,
    exportId,
    [...read.rows, ...canaries].map((view) => read.fields.map((f) => cellOf(view, f))),
  );
  const csv = exportCsv(read.fields, lines);
  const encrypter = new Encrypter();
  encrypter.addRecipient(key!);
  const file = Buffer.from(await encrypter.encrypt(csv));
  const at = deps.clock.now();
  return deps.db.tx(auditCtxOf(ctx, at).actor, async (tx) => {
    await tx.query(
      'UPDATE export_requests SET file = $2, file_sha256 = $3, canary_count = $4 WHERE id = $1',
      [exportId, file, createHash('sha256').update(file).digest(), canaries.length],
    );
    await recordCanaries(
      tx,
      deps.keys,
      exportId,
      canaries.map((c) => c as unknown as Identity),
    );
    return (await exportById(tx, exportId, at))!;
  });
}

/**
 * One download of an export's encrypted file, by its requester or the DPO, before it expires; each
 * is an audit event. An expired export's file is erased on the spot.
 */
export async function downloadExport(
  deps: GateDeps,
  ctx: GateCtx,
  exportId: string,
): Promise<{ file: Buffer; name: string }> {
  const at = deps.clock.now();
  const audit = auditCtxOf(ctx, at);
  const outcome = await deps.db.tx(audit.actor, async (tx) => {
    const [row] = await tx.query<{
      requested_by: string;
      purpose: string;
      status: string;
      expires_at: Date | null;
      file: Buffer | null;
    }>(
      'SELECT requested_by, purpose, status, expires_at, file FROM export_requests WHERE id = $1 FOR UPDATE',
      [exportId],
    );
    if (!row || (row.requested_by !== ctx.accountId && ctx.role !== 'dpo'))
      return new AppError('not_found', 'no such export');
    const expired = row.expires_at !== null && row.expires_at <= at;
    if (expired && row.file)
      await tx.query('UPDATE export_requests SET file = NULL WHERE id = $1', [exportId]);
    const reason = expired
      ? 'export_expired'
      : row.status !== 'produced' || !row.file
        ? 'export_no_file'
        : null;
    await appendAudit(tx, audit, {
      action: 'export.download',
      purpose: row.purpose,
      query: { exportId },
      decision: reason ? 'deny' : 'allow',
      reason,
      resultCount: 0,
      persons: [],
    });
    if (reason)
      return new AppError('conflict', expired ? 'the export has expired' : 'the export has no file');
    return Buffer.from(row.file!);
  });
  if (outcome instanceof AppError) throw outcome;
  return { file: outcome, name: `export-${exportId}.csv.age` };
}
