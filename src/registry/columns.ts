/**
 * PostgreSQL array literals for bulk statements (INSERT ... SELECT FROM unnest($1::bytea[], ...)).
 * One parameter per column instead of one per value: the same SQL runs on PGlite and PostgreSQL,
 * and a batch of thousands of rows costs one round trip.
 */

/** '{"\\x0a0b",NULL}' for bytea[]: each element in hex, quoted, with its backslash escaped. */
export function byteaArray(values: readonly (Uint8Array | null)[]): string {
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    parts[i] =
      value == null
        ? 'NULL'
        : `"\\\\x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}"`;
  }
  return `{${parts.join(',')}}`;
}

/** '{a,b,NULL}' for uuid[] and date[] (values that need no quoting). */
export function plainArray(values: readonly (string | null)[]): string {
  return `{${values.map((v) => (v === null ? 'NULL' : v)).join(',')}}`;
}

/** '{"a","b \\"c\\""}' for text[] (every element quoted and escaped). */
export function textArray(values: readonly (string | null)[]): string {
  return `{${values.map((v) => (v === null ? 'NULL' : `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)).join(',')}}`;
}

/** A bytea value from either driver (Buffer from node-postgres, Uint8Array from PGlite) as a Buffer. */
export function asBuffer(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}
