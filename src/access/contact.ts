/** New contact details, validated at the edge of the write (the gate's person.update_contact). */
import { AppError, type FieldIssue } from '../errors.ts';
import type { Identity } from '../registry/person.ts';
import { checkEmail, checkPhone } from '../registry/person.ts';
import type { ContactChanges } from './gate.ts';
import type { ContactField } from './policy.ts';

/** Validates new contact details at the edge of the write; messages name fields, never values. */
export function validateContact(changes: ContactChanges): Partial<Pick<Identity, ContactField>> {
  const issues: FieldIssue[] = [];
  const out: Partial<Pick<Identity, ContactField>> = {};
  if (changes.email !== undefined) {
    out.email = changes.email === null ? null : checkEmail('email', changes.email, issues);
  }
  if (changes.phone !== undefined) {
    out.phone = changes.phone === null ? null : checkPhone('phone', changes.phone, issues);
  }
  if (changes.address !== undefined) {
    if (changes.address === null) out.address = null;
    else {
      const { line, postalCode, city } = changes.address;
      if (!line.trim() || line.length > 200)
        issues.push({ field: 'address.line', message: 'is required (≤ 200 characters)' });
      if (!/^\d{5}$/.test(postalCode))
        issues.push({ field: 'address.postalCode', message: 'must be 5 digits' });
      if (!city.trim() || city.length > 100)
        issues.push({ field: 'address.city', message: 'is required (≤ 100 characters)' });
      out.address = { line: line.trim(), postalCode, city: city.trim() };
    }
  }
  if (issues.length > 0) {
    const first = issues[0]!;
    throw new AppError('validation_failed', `${first.field} ${first.message}`, {
      field: first.field,
      issues,
    });
  }
  return out;
}
