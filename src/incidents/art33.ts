/**
 * The authority's notification of a personal data breach (GDPR art. 33, docs/INCIDENTS.md): a draft
 * with every item art. 33(3) and the CNIL's online notification form ask, generated from the
 * incident (dates, exact counts by field and category of person) and the configuration (controller,
 * DPO), with default texts the DPO edits. Pure functions: art33-store.ts reads and writes.
 *
 * The draft holds counts and texts, never a person's data or id: it leaves Rempart (to the authority).
 */

import type { ControllerConfig } from '../config-controller.ts';
import { EMAIL } from '../config-controller.ts';
import { type FieldIssue, ValidationError } from '../errors.ts';
import type { PersonCategories } from './categories.ts';
import type { IncidentTimeline } from './timeline.ts';

/** Breach types of the CNIL form (loss of confidentiality, integrity, availability). */
export const BREACH_TYPES = ['confidentiality', 'integrity', 'availability'] as const;
/** The channels by which persons are told (the notices of art. 34). */
export const INFORM_CHANNELS = ['email', 'sms', 'letter', 'portal'] as const;
/** Whether persons are told: yes (done), planned, or no (with the reason, art. 34(3)). */
export const INFORMED = ['yes', 'planned', 'no'] as const;

/** The items the DPO may edit, each with its bound; the rest come from the incident. */
export interface Art33Edits {
  controllerName?: string | null;
  dpoName?: string | null;
  dpoEmail?: string | null;
  nature?: string | null;
  natureTypes?: (typeof BREACH_TYPES)[number][] | null;
  cause?: string | null;
  consequences?: string | null;
  measuresTaken?: string | null;
  measuresProposed?: string | null;
  personsInformed?: (typeof INFORMED)[number] | null;
  informChannels?: (typeof INFORM_CHANNELS)[number][] | null;
  notInformedReason?: string | null;
  crossBorder?: boolean | null;
  crossBorderCountries?: string | null;
  delayReasons?: string | null;
}

/** Text items and their maximum length. */
export const TEXT_ITEMS: Record<string, number> = {
  controllerName: 200,
  dpoName: 200,
  dpoEmail: 200,
  nature: 4000,
  cause: 2000,
  consequences: 4000,
  measuresTaken: 4000,
  measuresProposed: 4000,
  notInformedReason: 2000,
  crossBorderCountries: 500,
  delayReasons: 4000,
};

/** The draft: every item of art. 33(3) and of the CNIL form, and what is still missing. */
export interface Art33Draft {
  incidentId: string;
  status: 'draft' | 'sent';
  sentAt: string | null;
  updatedAt: string | null;
  timeline: IncidentTimeline;
  controllerName: string | null;
  dpoName: string | null;
  dpoEmail: string | null;
  /** Nature of the breach (art. 33(3)(a)). */
  nature: string;
  natureTypes: (typeof BREACH_TYPES)[number][];
  cause: string;
  /** Dates of the breach (the incident's window) and of awareness (detection). */
  breachStartedAt: string;
  breachEndedAt: string;
  detectedAt: string;
  /** Categories and approximate number of persons (exact here). */
  personCount: number;
  personCategories: PersonCategories['byStatus'] | null;
  minors: number | null;
  /** Categories and approximate number of records: persons per field, and person × field. */
  recordCount: number;
  dataCategories: Record<string, number>;
  consequences: string;
  measuresTaken: string;
  measuresProposed: string;
  personsInformed: (typeof INFORMED)[number];
  informChannels: (typeof INFORM_CHANNELS)[number][];
  notInformedReason: string | null;
  crossBorder: boolean;
  crossBorderCountries: string | null;
  /** Required once the 72 hours are past (art. 33(1)). */
  delayReasons: string | null;
  /** Required items still empty: the draft cannot be marked sent until this is empty. */
  missing: string[];
}

/** What the draft is generated from. */
export interface DraftSource {
  incidentId: string;
  kind: string;
  accounts: number;
  windowFrom: Date;
  windowTo: Date;
  personCount: number;
  records: number;
  fieldCounts: Record<string, number>;
  categories: PersonCategories | null;
  timeline: IncidentTimeline;
  edits: Art33Edits;
  updatedAt: Date | null;
  sentAt: Date | null;
}

const IDENTITY = new Set(['nir', 'lastName', 'birthName', 'firstNames', 'birthDate', 'birthPlace', 'sex']);
const CONTACT = new Set(['email', 'phone', 'address']);

const day = (d: Date): string => d.toISOString().replace('T', ' ').slice(0, 16);

function defaultNature(s: DraftSource): string {
  const window = `entre le ${day(s.windowFrom)} et le ${day(s.windowTo)} (UTC)`;
  if (s.kind === 'leaked_file')
    return `Un fichier contenant des données de demandeurs d'emploi a été trouvé hors de l'organisme ; ses lignes ont été rapprochées du registre (${window}).`;
  return `Consultation non autorisée de données de demandeurs d'emploi au moyen de ${s.accounts} compte(s) d'agent compromis, ${window}.`;
}

function defaultConsequences(fields: string[]): string {
  const parts = [
    'Hameçonnage ciblé (courriels, SMS ou appels) utilisant des données exactes pour gagner la confiance des personnes.',
  ];
  if (fields.some((f) => IDENTITY.has(f)))
    parts.push("Usurpation d'identité (ouverture de comptes, démarches en leur nom).");
  if (fields.some((f) => CONTACT.has(f)))
    parts.push('Démarchage ou sollicitations non désirées aux coordonnées exposées.');
  return parts.join(' ');
}

/** Builds the draft from its source: the DPO's edits over the generated items. */
export function buildDraft(s: DraftSource, controller: ControllerConfig): Art33Draft {
  const e = s.edits;
  const fields = Object.keys(s.fieldCounts);
  const clock = s.timeline.clock;
  const draft: Art33Draft = {
    incidentId: s.incidentId,
    status: s.sentAt ? 'sent' : 'draft',
    sentAt: s.sentAt?.toISOString() ?? null,
    updatedAt: s.updatedAt?.toISOString() ?? null,
    timeline: s.timeline,
    controllerName: e.controllerName ?? controller.controllerName,
    dpoName: e.dpoName ?? controller.dpoName,
    dpoEmail: e.dpoEmail ?? controller.dpoEmail,
    nature: e.nature ?? defaultNature(s),
    natureTypes: e.natureTypes ?? ['confidentiality'],
    cause:
      e.cause ??
      (s.kind === 'leaked_file'
        ? "Acte malveillant : exfiltration de données (origine en cours d'analyse)."
        : "Acte malveillant externe : usage de comptes d'agents compromis."),
    breachStartedAt: s.windowFrom.toISOString(),
    breachEndedAt: s.windowTo.toISOString(),
    detectedAt: s.timeline.detectedAt,
    personCount: s.personCount,
    personCategories: s.categories?.byStatus ?? null,
    minors: s.categories?.minors ?? null,
    recordCount: s.records,
    dataCategories: s.fieldCounts,
    consequences: e.consequences ?? defaultConsequences(fields),
    measuresTaken:
      e.measuresTaken ??
      (s.kind === 'leaked_file'
        ? 'Fichier analysé et rapproché du registre ; périmètre exact établi (personnes et données exposées).'
        : "Comptes suspendus et sessions révoquées ; périmètre exact établi à partir du journal d'audit."),
    measuresProposed:
      e.measuresProposed ??
      'Information individuelle de chaque personne avec exactement ses données exposées, messages vérifiables par code ; surveillance renforcée des accès.',
    personsInformed: e.personsInformed ?? (s.timeline.peopleNotifiedAt ? 'yes' : 'planned'),
    informChannels: e.informChannels ?? ['email', 'letter', 'portal'],
    notInformedReason: e.notInformedReason ?? null,
    crossBorder: e.crossBorder ?? false,
    crossBorderCountries: e.crossBorderCountries ?? null,
    delayReasons: e.delayReasons ?? null,
    missing: [],
  };
  draft.missing = missingItems(draft, clock.status === 'overdue' || clock.status === 'notified_late');
  return draft;
}

/** The required items still empty; `late`: the 72 hours are past, so the reasons for the delay are required. */
export function missingItems(d: Art33Draft, late: boolean): string[] {
  const missing: string[] = [];
  for (const key of [
    'controllerName',
    'dpoName',
    'dpoEmail',
    'nature',
    'consequences',
    'measuresTaken',
  ] as const)
    if (!d[key]) missing.push(key);
  if (!d.measuresProposed) missing.push('measuresProposed');
  if (d.natureTypes.length === 0) missing.push('natureTypes');
  if (d.personsInformed === 'no' && !d.notInformedReason) missing.push('notInformedReason');
  if (d.personsInformed !== 'no' && d.informChannels.length === 0) missing.push('informChannels');
  if (d.crossBorder && !d.crossBorderCountries) missing.push('crossBorderCountries');
  if (late && !d.delayReasons) missing.push('delayReasons');
  return missing;
}

function enumList<T extends string>(
  value: unknown,
  allowed: readonly T[],
  field: string,
  issues: FieldIssue[],
): T[] | undefined {
  if (
    !Array.isArray(value) ||
    value.some((v) => !allowed.includes(v as T)) ||
    new Set(value).size !== value.length
  ) {
    issues.push({ field, message: `must be a list of distinct values among ${allowed.join(', ')}` });
    return undefined;
  }
  return value as T[];
}

/**
 * Checks the DPO's edits (any subset of the editable items; null resets an item to its generated
 * value). Throws a ValidationError naming each bad field; returns the edits, texts trimmed.
 */
export function checkEdits(body: Record<string, unknown>): Art33Edits {
  const issues: FieldIssue[] = [];
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(body)) {
    if (value === null) {
      out[field] = null;
      if (
        !(field in TEXT_ITEMS) &&
        !['natureTypes', 'personsInformed', 'informChannels', 'crossBorder'].includes(field)
      )
        issues.push({ field, message: 'is not an item of the draft' });
      continue;
    }
    if (field in TEXT_ITEMS) {
      const text = typeof value === 'string' ? value.trim() : '';
      if (typeof value !== 'string' || text.length === 0 || text.length > TEXT_ITEMS[field]!)
        issues.push({ field, message: `must be a text of 1 to ${TEXT_ITEMS[field]} characters` });
      else if (field === 'dpoEmail' && !EMAIL.test(text))
        issues.push({ field, message: 'is not an email address' });
      else out[field] = text;
    } else if (field === 'natureTypes') out[field] = enumList(value, BREACH_TYPES, field, issues);
    else if (field === 'informChannels') out[field] = enumList(value, INFORM_CHANNELS, field, issues);
    else if (field === 'personsInformed') {
      if (!INFORMED.includes(value as (typeof INFORMED)[number]))
        issues.push({ field, message: `must be one of ${INFORMED.join(', ')}` });
      else out[field] = value;
    } else if (field === 'crossBorder') {
      if (typeof value !== 'boolean') issues.push({ field, message: 'must be true or false' });
      else out[field] = value;
    } else issues.push({ field, message: 'is not an item of the draft' });
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return out as Art33Edits;
}
