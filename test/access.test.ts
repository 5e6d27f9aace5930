/** The purposes and the policy table: the SQL defaults match the code, and the table denies by default. */
import { describe, expect, it } from 'vitest';
import { POLICY, ruleFor } from '../src/access/policy.ts';
import { defaultPurposes, PURPOSE_IDS, PURPOSES } from '../src/access/purposes.ts';
import { ROLES } from '../src/identity/accounts.ts';
import { ROLES_BY_KIND } from '../src/identity/provisioning.ts';
import { engine, freshDb } from './helpers/db.ts';

describe(`purposes and policy (${engine})`, () => {
  it('each organisation kind gets, in SQL, exactly the purposes the code lists for it', async () => {
    const t = await freshDb();
    try {
      for (const kind of Object.keys(ROLES_BY_KIND)) {
        const [row] = await t.driver.transaction((tx) =>
          tx.query<{ purposes: string[] }>('SELECT rempart_default_purposes($1) AS purposes', [kind]),
        );
        expect([...(row?.purposes ?? [])].sort(), kind).toEqual(defaultPurposes(kind).sort());
      }
    } finally {
      await t.close();
    }
  });

  it('a purpose is only ever granted to roles that its organisation kinds hold', () => {
    for (const purpose of PURPOSE_IDS) {
      const info = PURPOSES[purpose];
      for (const role of info.roles) {
        expect(
          info.kinds.some((kind) => (ROLES_BY_KIND[kind] ?? []).includes(role)),
          `${purpose}/${role}`,
        ).toBe(true);
      }
    }
  });

  it.each(ROLES.flatMap((role) => PURPOSE_IDS.map((purpose) => [role, purpose] as const)))(
    'policy for %s / %s exists only where the purpose is open to the role',
    (role, purpose) => {
      const rule = ruleFor(role, purpose);
      if (!(PURPOSES[purpose].roles as readonly string[]).includes(role)) expect(rule).toBeUndefined();
    },
  );

  it.each(['helpdesk', 'org_manager', 'administrator', 'subcontractor_operator'] as const)(
    'the %s role has no rule at all (no search, no view)',
    (role) => {
      expect(POLICY[role]).toBeUndefined();
    },
  );

  it('partners never see or search the NIR, and never read nationally', () => {
    const rule = ruleFor('partner_counselor', 'accompaniment')!;
    expect(rule.search).not.toContain('nir');
    expect([...rule.list, ...rule.view]).not.toContain('nir');
    expect([...rule.list, ...rule.view]).not.toContain('nirMasked');
    expect(rule.national).toBe(false);
    expect(rule.scope).toBe('caseload');
  });

  it('search results never carry contact details', () => {
    for (const [role, purposes] of Object.entries(POLICY)) {
      for (const [purpose, rule] of Object.entries(purposes ?? {})) {
        for (const field of ['email', 'phone', 'address', 'nir'] as const) {
          expect(rule.list, `${role}/${purpose}`).not.toContain(field);
        }
      }
    }
  });
});
