/**
 * Reading a notice back (docs/NOTICES.md): the incident, the code, the detection date and the
 * exposed fields a notice's text states, the French field names mapped back to the audit log's
 * names through FIELD_NAMES_FR. The drill's T7 uses it to compare, field for field, what each
 * person was told with what the attackers received (docs/DESIGN.md section 2, T7); the text is
 * read as the person reads it, not taken from Rempart's memory. It parses; it does not verify the
 * signature (verifyNotice does, over the exact text).
 */
import { AppError } from '../errors.ts';
import { FIELD_NAMES_FR } from './notice-text.ts';

/** What a notice states. */
export interface ParsedNotice {
  incidentId: string;
  code: string;
  /** `YYYY-MM-DD`: the day the breach was detected, as the notice says it. */
  detectedOn: string;
  /** The exposed fields, audit log names, sorted. */
  fields: string[];
}

const FIELD_BY_FRENCH = new Map(Object.entries(FIELD_NAMES_FR).map(([field, french]) => [french, field]));
const FIELDS_INTRO = 'Les données suivantes vous concernant ont été consultées';

function invalid(what: string): AppError {
  return new AppError('validation_failed', `notice: ${what}`, { field: 'notice' });
}

/** The value after `label : ` on the first line starting with it. */
function labelled(lines: readonly string[], label: string): string {
  const line = lines.find((l) => l.startsWith(`${label} : `));
  const value = line?.slice(label.length + 3).trim();
  if (!value) throw invalid(`no "${label}" line`);
  return value;
}

/**
 * Parses a notice's text (signed or not; line breaks `\n` or `\r\n`; as printed on a letter, long
 * lines wrapped). A text without its header
 * lines, without the list of fields, with an empty list or with a field name the notices never use
 * is refused (validation_failed naming `notice`): a notice read wrongly must not compare equal.
 */
export function parseNoticeText(text: string): ParsedNotice {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  if (!lines[0]?.startsWith('Rempart - Information sur une violation')) throw invalid('not a Rempart notice');
  const incidentId = labelled(lines, 'Incident');
  const code = labelled(lines, 'Code de vérification');
  const detectedOn = /^Le (\d{4}-\d{2}-\d{2}), nous avons constaté/.exec(
    lines.find((l) => l.startsWith('Le ')) ?? '',
  )?.[1];
  if (!detectedOn) throw invalid('no detection date');
  const start = lines.findIndex((l) => l.startsWith(FIELDS_INTRO));
  if (start < 0) throw invalid('no list of exposed fields');
  // A printed letter wraps the intro's long line: its continuation comes before the list.
  let first = start + 1;
  while (first < lines.length && lines[first]!.trim() !== '' && !lines[first]!.startsWith('- ')) first += 1;
  const fields: string[] = [];
  for (const line of lines.slice(first)) {
    if (!line.startsWith('- ')) break;
    const field = FIELD_BY_FRENCH.get(line.slice(2));
    if (!field) throw invalid(`unknown field "${line.slice(2, 60)}"`);
    fields.push(field);
  }
  if (fields.length === 0) throw invalid('the list of exposed fields is empty');
  return { incidentId, code, detectedOn, fields: [...new Set(fields)].sort() };
}
