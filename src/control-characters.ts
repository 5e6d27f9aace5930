/**
 * Control characters in text input (docs/SECURITY.md, "Input"): refused everywhere, in every field
 * of the API, of an import file and of the CLI. None is allowed anywhere, not even a newline or a
 * tab in free text (a justification, a note): they are how a value forges a line in a log, a
 * rejects file or an audit report (T8), and NUL is refused by PostgreSQL itself (error 22021),
 * which surfaced as a 500. Passwords follow the same rule: no keyboard types a control character,
 * and NIST SP 800-63B asks for printable characters only.
 */

/**
 * C0 controls (U+0000–U+001F: NUL, tab, newline, carriage return, ESC…), DEL (U+007F), C1 controls
 * (U+0080–U+009F) and the Unicode line and paragraph separators (U+2028, U+2029), which some
 * viewers treat as newlines.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** True when `value` holds a control character (CONTROL_CHARACTER). */
export function hasControlCharacter(value: string): boolean {
  return CONTROL_CHARACTER.test(value);
}

// A property name is part of the path reported; only echo it when it looks like an identifier.
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * The path (`address.line`, `ids.3`) of the first string holding a control character in a parsed
 * JSON value, query or params object, or undefined when there is none. A property name with a
 * control character is reported at its parent's path (`context` at the top).
 */
export function findControlCharacter(
  value: unknown,
  context: string,
  path: string[] = [],
): string | undefined {
  const here = (): string => (path.length > 0 ? path.join('.') : context);
  if (typeof value === 'string') return hasControlCharacter(value) ? here() : undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = findControlCharacter(item, context, [...path, String(i)]);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (hasControlCharacter(key)) return here();
      const name = IDENTIFIER.test(key) ? key : 'property';
      const found = findControlCharacter(item, context, [...path, name]);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
