/**
 * What the console needs to offer an export request, and nothing of a person: the purposes the
 * caller's role and organisation may export, each with the fields the role may read for it, and the
 * organisations a file may go to, with whether their age key is registered.
 */
import type { GateCtx, GateDeps } from '../access/gate.ts';
import type { ViewField } from '../access/policy.ts';
import { PURPOSE_IDS, PURPOSES, type Purpose } from '../access/purposes.ts';
import { AppError } from '../errors.ts';
import { auditCtxOf, exportableFields } from './requests.ts';

/** What the console offers a caller: the purposes it may export with their fields, and the recipients. */
export interface ExportOptions {
  purposes: { id: Purpose; label: { fr: string; en: string }; fields: ViewField[] }[];
  recipients: { id: string; name: string; kind: string; keyRegistered: boolean }[];
}

/** The roles that see the export options: those that request, decide, or register recipients. */
const OPTION_ROLES = ['counselor', 'partner_counselor', 'org_manager', 'dpo'];

/**
 * The export options of the caller (no person): the purposes its role and organisation may export,
 * each with the fields the role may read for it (exportableFields), and the organisations a file may
 * go to, with whether their age key is registered (a file is made only for a registered key).
 */
export async function exportOptions(deps: GateDeps, ctx: GateCtx): Promise<ExportOptions> {
  if (!OPTION_ROLES.includes(ctx.role))
    throw new AppError(
      'forbidden',
      'exports are requested by counselors and decided by managers and the DPO',
    );
  const purposes = PURPOSE_IDS.filter(
    (p) =>
      (PURPOSES[p].roles as readonly string[]).includes(ctx.role) &&
      ctx.organisationPurposes.includes(p) &&
      exportableFields(ctx.role, p).length > 0,
  ).map((p) => ({ id: p, label: { ...PURPOSES[p].label }, fields: [...exportableFields(ctx.role, p)] }));
  const at = deps.clock.now();
  const recipients = await deps.db.tx(auditCtxOf(ctx, at).actor, (tx) =>
    tx.query<{ id: string; name: string; kind: string; key_registered: boolean }>(
      `SELECT o.id, o.name, o.kind, (r.organisation_id IS NOT NULL) AS key_registered
       FROM organisations o LEFT JOIN export_recipients r ON r.organisation_id = o.id
       WHERE o.kind <> 'national' ORDER BY o.name, o.id`,
    ),
  );
  return {
    purposes,
    recipients: recipients.map((r) => ({
      id: r.id,
      name: r.name,
      kind: r.kind,
      keyRegistered: r.key_registered,
    })),
  };
}
