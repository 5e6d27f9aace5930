import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { AppError } from '../errors.ts';
import { evaluate, type Situation } from './signals.ts';
import { freshState } from './state.ts';
import {
  BUILT_IN,
  DEFAULTS,
  type GuardConfig,
  loadGuardConfig,
  PARAMETER_DOCS,
  parseGuardConfig,
  RESPONSES,
  SIGNAL_DOCS,
  SIGNALS,
  thresholdsFor,
} from './thresholds.ts';

/** The issues of the bad_configuration error `run` throws. */
function issuesOf(run: () => unknown): { field: string; message: string }[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    const e = error as AppError & { issues?: { field: string; message: string }[] };
    expect(e.code).toBe('bad_configuration');
    return e.issues ?? [{ field: e.field ?? '', message: e.message }];
  }
  throw new Error('expected a bad_configuration error');
}

describe('the built-in configuration', () => {
  it('documents every signal and parameter, and every level is a positive number of a known response', () => {
    expect(Object.keys(SIGNAL_DOCS).sort()).toEqual([...SIGNALS].sort());
    expect(Object.keys(PARAMETER_DOCS).sort()).toEqual(Object.keys(DEFAULTS.parameters).sort());
    for (const name of SIGNALS) {
      expect(DEFAULTS.levels[name], name).toBeDefined();
      for (const [response, level] of Object.entries(DEFAULTS.levels[name])) {
        expect(RESPONSES).toContain(response);
        expect(level).toBeGreaterThan(0);
      }
    }
  });

  it('is what parseGuardConfig makes of an empty file', () => {
    expect(parseGuardConfig({})).toEqual(BUILT_IN);
  });

  it('a role without an entry gets the defaults; partners get their narrower levels and the rest of the defaults', () => {
    expect(thresholdsFor(BUILT_IN, 'counselor', 'ANY')).toEqual(DEFAULTS);
    const partner = thresholdsFor(BUILT_IN, 'partner_counselor', 'ANY');
    expect(partner.levels.beyond_baseline).toEqual({ step_up: 25, suspend: 40 });
    expect(partner.levels.refused_per_day).toEqual({ step_up: 4, suspend: 12 });
    expect(partner.levels.views_per_minute).toEqual(DEFAULTS.levels.views_per_minute);
    expect(partner.levels.canary).toEqual({ suspend: 1 });
    expect(partner.parameters).toEqual(DEFAULTS.parameters);
  });

  it('thresholdsFor does not let one call change the next (what it returns is frozen)', () => {
    const t = thresholdsFor(BUILT_IN, 'partner_counselor', 'ANY');
    expect(() => {
      t.levels.canary = {};
    }).toThrow(TypeError);
    expect(() => {
      t.parameters.baselineFloor = 1;
    }).toThrow(TypeError);
    expect(() => {
      (t.levels.canary as { suspend?: number }).suspend = 9;
    }).toThrow(TypeError);
    expect(thresholdsFor(BUILT_IN, 'partner_counselor', 'ANY').levels.canary).toEqual({ suspend: 1 });
    expect(DEFAULTS.parameters.baselineFloor).toBe(25);
  });
});

describe('layering: defaults → operator defaults → role (built in, then operator) → organisation', () => {
  const config: GuardConfig = parseGuardConfig({
    defaults: {
      levels: { views_per_minute: { throttle: 10 }, refused_per_day: { step_up: 2, suspend: 3 } },
      parameters: { baselineFloor: 10, throttleMinutes: 5 },
    },
    roles: {
      partner_counselor: {
        levels: { views_per_minute: { throttle: 12 }, off_hours_persons: { suspend: 50 } },
        parameters: { baselineFloor: 12 },
      },
      counselor: { levels: { national_persons: { step_up: 3 } } },
    },
    organisations: {
      'CAP-75-001': {
        levels: { views_per_minute: { throttle: 14 }, canary: {} },
        parameters: { baselineFloor: 40 },
      },
    },
  });

  it('operator defaults apply to every role where no later layer names the signal', () => {
    const counselor = thresholdsFor(config, 'counselor', 'AGENCY-1');
    expect(counselor.levels.views_per_minute).toEqual({ throttle: 10 });
    expect(counselor.levels.refused_per_day).toEqual({ step_up: 2, suspend: 3 });
    expect(counselor.levels.national_persons).toEqual({ step_up: 3 });
    expect(counselor.levels.canary).toEqual({ suspend: 1 });
    expect(counselor.parameters).toMatchObject({ baselineFloor: 10, throttleMinutes: 5, baselineAlpha: 0.2 });
  });

  it('a role entry (built in, then the operator’s) overrides the operator defaults', () => {
    const partner = thresholdsFor(config, 'partner_counselor', 'CAP-13-002');
    expect(partner.levels.views_per_minute).toEqual({ throttle: 12 });
    // The built-in partner entry names refused_per_day: it wins over the operator's defaults.
    expect(partner.levels.refused_per_day).toEqual({ step_up: 4, suspend: 12 });
    // The operator's role entry replaces a signal's levels whole: no step-up left for off-hours.
    expect(partner.levels.off_hours_persons).toEqual({ suspend: 50 });
    // Built-in partner levels the operator did not name are kept.
    expect(partner.levels.beyond_baseline).toEqual({ step_up: 25, suspend: 40 });
    expect(partner.parameters).toMatchObject({ baselineFloor: 12, throttleMinutes: 5 });
  });

  it('an organisation entry overrides everything for its accounts only', () => {
    const inOrg = thresholdsFor(config, 'partner_counselor', 'CAP-75-001');
    expect(inOrg.levels.views_per_minute).toEqual({ throttle: 14 });
    expect(inOrg.levels.canary).toEqual({});
    expect(inOrg.levels.off_hours_persons).toEqual({ suspend: 50 });
    expect(inOrg.parameters.baselineFloor).toBe(40);
    expect(thresholdsFor(config, 'counselor', 'CAP-75-001').levels.views_per_minute).toEqual({
      throttle: 14,
    });
    expect(thresholdsFor(config, 'partner_counselor', 'CAP-75-002').levels.canary).toEqual({ suspend: 1 });
  });

  it('does not change the built-in configuration', () => {
    expect(BUILT_IN.defaults).toEqual({});
    expect(BUILT_IN.organisations).toEqual({});
    expect(thresholdsFor(BUILT_IN, 'partner_counselor', 'X').levels.off_hours_persons).toEqual({
      step_up: 10,
      suspend: 30,
    });
  });
});

describe('parseGuardConfig refuses what it does not know, naming the field', () => {
  it.each([
    [
      { roles: { partner_counselor: { levels: { bogus: { step_up: 1 } } } } },
      'roles.partner_counselor.levels.bogus',
    ],
    [{ defaults: { levels: { canary: { block: 1 } } } }, 'defaults.levels.canary.block'],
    [
      { organisations: { 'CAP-75-001': { levels: { views_per_minute: { throttle: 0 } } } } },
      'organisations.CAP-75-001.levels.views_per_minute.throttle',
    ],
    [
      { defaults: { levels: { views_per_minute: { throttle: -3 } } } },
      'defaults.levels.views_per_minute.throttle',
    ],
    [
      { defaults: { levels: { views_per_minute: { throttle: '30' } } } },
      'defaults.levels.views_per_minute.throttle',
    ],
    [{ defaults: { levels: { views_per_minute: 30 } } }, 'defaults.levels.views_per_minute'],
    [{ defaults: { levels: [] } }, 'defaults.levels'],
    [{ defaults: { parameters: { baselineAlpha: 1.5 } } }, 'defaults.parameters.baselineAlpha'],
    [{ defaults: { parameters: { baselineAlpha: 0 } } }, 'defaults.parameters.baselineAlpha'],
    [{ roles: { counselor: { parameters: { floor: 3 } } } }, 'roles.counselor.parameters.floor'],
    [{ roles: { counselor: { limits: {} } } }, 'roles.counselor.limits'],
    [{ roles: { counselor: 'strict' } }, 'roles.counselor'],
    [{ organisations: [] }, 'organisations'],
    [{ roles: 3 }, 'roles'],
    [{ thresholds: {} }, 'thresholds'],
  ])('%j → %s', (raw, field) => {
    const issues = issuesOf(() => parseGuardConfig(raw));
    expect(issues.map((i) => i.field)).toEqual([field]);
  });

  it('names every issue at once, in the error message too', () => {
    const run = (): unknown =>
      parseGuardConfig({
        defaults: { levels: { bogus: {} } },
        roles: { partner_counselor: { levels: { canary: { suspend: 0 } } } },
        organisations: { X: { parameters: { nope: 1 } } },
      });
    expect(issuesOf(run).map((i) => i.field)).toEqual([
      'defaults.levels.bogus',
      'roles.partner_counselor.levels.canary.suspend',
      'organisations.X.parameters.nope',
    ]);
    expect(run).toThrow(/roles\.partner_counselor\.levels\.canary\.suspend/);
  });

  it('refuses what is not an object', () => {
    for (const raw of [null, [], 'x', 3]) {
      expect(issuesOf(() => parseGuardConfig(raw))).toEqual([
        expect.objectContaining({ field: 'REMPART_GUARD_CONFIG' }),
      ]);
    }
  });

  it('accepts an empty set of levels: that signal never responds', () => {
    const config = parseGuardConfig({ defaults: { levels: { canary: {} } } });
    expect(thresholdsFor(config, 'counselor', 'X').levels.canary).toEqual({});
  });
});

describe('a threshold is changed by a JSON file, with no code change', () => {
  const folder = mkdtempSync(path.join(tmpdir(), 'rempart-guard-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));
  const file = (name: string, content: string): string => {
    const at = path.join(folder, name);
    writeFileSync(at, content);
    return at;
  };
  const situation: Situation = {
    at: new Date('2026-03-02T09:00:00Z'),
    probation: false,
    newSource: false,
    addressChanged: false,
    concurrentAddresses: 0,
    canaries: 0,
  };
  /** What a partner of CAP-75-001 who was refused 3 times today gets under `config`. */
  const refusedThrice = (config: GuardConfig): string => {
    const state = freshState(situation.at, '2026-03-02');
    state.d.refused = 3;
    return evaluate(state, situation, thresholdsFor(config, 'partner_counselor', 'CAP-75-001')).response;
  };

  it('REMPART_GUARD_CONFIG: loadConfig reads it and the guard answers differently', () => {
    const built = loadConfig({ LOG_LEVEL: 'silent' });
    expect(built.guard).toEqual(BUILT_IN);
    expect(refusedThrice(built.guard)).toBe('allow');

    const at = file(
      'strict.json',
      JSON.stringify({
        organisations: { 'CAP-75-001': { levels: { refused_per_day: { step_up: 2, suspend: 3 } } } },
      }),
    );
    const strict = loadConfig({ LOG_LEVEL: 'silent', REMPART_GUARD_CONFIG: at });
    expect(refusedThrice(strict.guard)).toBe('suspend');
    // other organisations keep the built-in levels
    const state = freshState(situation.at, '2026-03-02');
    state.d.refused = 3;
    expect(
      evaluate(state, situation, thresholdsFor(strict.guard, 'partner_counselor', 'CAP-13-002')).response,
    ).toBe('allow');

    const lenient = loadConfig({
      LOG_LEVEL: 'silent',
      REMPART_GUARD_CONFIG: file(
        'lenient.json',
        '{"roles": {"partner_counselor": {"levels": {"refused_per_day": {}}}}}',
      ),
    });
    const many = freshState(situation.at, '2026-03-02');
    many.d.refused = 50;
    expect(evaluate(many, situation, thresholdsFor(lenient.guard, 'partner_counselor', 'X')).response).toBe(
      'allow',
    );
  });

  it('a bad file stops the server from starting, naming REMPART_GUARD_CONFIG and the field', () => {
    const at = file('bad.json', '{"roles": {"partner_counselor": {"levels": {"bogus": {"step_up": 1}}}}}');
    expect(() => loadConfig({ LOG_LEVEL: 'silent', REMPART_GUARD_CONFIG: at })).toThrow(
      /REMPART_GUARD_CONFIG.*roles\.partner_counselor\.levels\.bogus/,
    );
    const broken = file('broken.json', '{"roles": ');
    expect(issuesOf(() => loadGuardConfig(broken))).toEqual([
      expect.objectContaining({ field: 'REMPART_GUARD_CONFIG' }),
    ]);
    expect(issuesOf(() => loadGuardConfig(path.join(folder, 'missing.json')))[0]!.field).toBe(
      'REMPART_GUARD_CONFIG',
    );
    expect(loadGuardConfig(undefined)).toBe(BUILT_IN);
  });
});
