/** The purposes and the policy table: the SQL defaults match the code, and the table denies by default. */
import { describe, expect, it } from 'vitest';
import { POLICY, ruleFor } from '../src/access/policy.ts';
import { defaultPurposes, PURPOSE_IDS, PURPOSES } from '../src/access/purposes.ts';
import { WORK_TASK_IDS, WORK_TASKS } from '../src/access/work-tasks.ts';
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

  it.each(['helpdesk', 'org_manager', 'administrator'] as const)(
    'the %s role has no rule at all (no search, no view)',
    (role) => {
      expect(POLICY[role]).toBeUndefined();
    },
  );

  it('subcontractor operators: no search, no record, only work items (T4)', () => {
    expect(Object.keys(POLICY.subcontractor_operator ?? {})).toEqual(['work_item']);
    const rule = ruleFor('subcontractor_operator', 'work_item')!;
    expect(rule.search).toEqual([]);
    expect(rule.list).toEqual([]);
    expect(rule.view).toEqual([]);
    expect(rule.update).toEqual([]);
    expect(rule.national).toBe(false);
    expect(rule.history).toBe(false);
    expect(rule.scope).toBe('work_item');
    expect(rule.delegate ?? []).toEqual([]);
  });

  it('a work item never shows more than the operator role’s cap, and never a NIR, contact or birth date', () => {
    const cap = ruleFor('subcontractor_operator', 'work_item')!.items!;
    for (const id of WORK_TASK_IDS) {
      const task = WORK_TASKS[id];
      for (const field of task.fields) expect(cap, id).toContain(field);
      for (const field of ['nir', 'nirMasked', 'email', 'phone', 'birthDate', 'birthPlace', 'birthName']) {
        expect(task.fields as readonly string[], id).not.toContain(field);
      }
      // Pseudonymised tasks show no name.
      if (task.pseudonymised) {
        expect(task.fields as readonly string[], id).not.toContain('lastName');
        expect(task.fields as readonly string[], id).not.toContain('firstNames');
      }
    }
  });

  it('only roles with an everyday scope hand tasks to subcontractors', () => {
    for (const [role, purposes] of Object.entries(POLICY)) {
      for (const [purpose, rule] of Object.entries(purposes ?? {})) {
        if ((rule.delegate ?? []).length === 0) continue;
        expect(['agency', 'caseload'], `${role}/${purpose}`).toContain(rule.scope);
        for (const task of rule.delegate ?? []) expect(WORK_TASK_IDS).toContain(task);
      }
    }
  });

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
