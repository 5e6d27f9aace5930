/** JSON-schema building blocks shared by the route files: closed objects, bounded strings. */

/** A closed object: only these properties (unknown ones are refused, not dropped); all required unless listed. */
export const obj = (properties: Record<string, unknown>, required: string[] = Object.keys(properties)) =>
  ({ type: 'object', required, additionalProperties: false, properties }) as const;

/** A non-empty string of at most `maxLength` characters. */
export const str = (maxLength: number) => ({ type: 'string', minLength: 1, maxLength }) as const;

/** Path parameters `{ id }` as a UUID. */
export const idParams = obj({ id: { type: 'string', format: 'uuid' } });
