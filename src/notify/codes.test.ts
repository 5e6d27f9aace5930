import { describe, expect, it } from 'vitest';
import { freshDb } from '../../test/helpers/db.ts';
import { systemCtx } from '../context.ts';
import { codeHash, findMessage, newMessageCode, normalizeCode, registerMessage } from './codes.ts';

describe('message codes (T6)', () => {
  it('are 12 Crockford characters in three groups, and distinct over 100,000 draws', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) {
      const code = newMessageCode();
      expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
      seen.add(code);
    }
    expect(seen.size).toBe(100_000);
  });

  it('read as typed: case, spaces, hyphens, and I/L/O for 1/1/0', () => {
    expect(normalizeCode(' 7qk4 m2zd 9xab ')).toBe('7QK4-M2ZD-9XAB');
    expect(normalizeCode('OIL4-M2ZD-9XAB')).toBe('0114-M2ZD-9XAB');
    expect(normalizeCode('7QK4-M2ZD-9XA')).toBeNull();
    expect(normalizeCode('7QK4-M2ZD-9XAU')).toBeNull();
    expect(normalizeCode('x'.repeat(100))).toBeNull();
  });

  it('are stored as a hash only; the registered message is found by its code, nothing else is', async () => {
    const db = await freshDb();
    try {
      const at = new Date('2026-12-01T10:00:00Z');
      const sent = await db.db.tx(systemCtx('test').actor, (tx) =>
        registerMessage(
          tx,
          { kind: 'test_message', channel: 'email', at },
          (code) => `Bonjour.\nCode : ${code}\n`,
        ),
      );
      expect(sent.content).toContain(sent.code);
      const rows = await db.db.tx(systemCtx('test').actor, (tx) =>
        tx.query<{ code_hash: Buffer }>('SELECT code_hash FROM messages'),
      );
      expect(rows).toHaveLength(1);
      expect(Buffer.from(rows[0]!.code_hash).equals(codeHash(sent.code))).toBe(true);
      const found = await db.db.tx(systemCtx('test').actor, (tx) => findMessage(tx, sent.code.toLowerCase()));
      expect(found).toMatchObject({ id: sent.id, kind: 'test_message', channel: 'email', sentAt: at });
      const forged = await db.db.tx(systemCtx('test').actor, (tx) => findMessage(tx, newMessageCode()));
      expect(forged).toBeNull();
    } finally {
      await db.close();
    }
  });
});
