import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors.ts';
import { buildNir, formatNir, type Nir, nirKey, nirMatchesPerson, parseNir } from './nir.ts';

// Keys below were computed independently (Python int arithmetic), not with nirKey.
// Worked example: 1850578006048 = 1850578 × 10^6 + 006048; 1850578 mod 97 = 12, 10^6 mod 97 = 27,
// 6048 mod 97 = 34, so N mod 97 = (12 × 27 + 34) mod 97 = 358 mod 97 = 67 and the key is 97 − 67 = 30.
// (The often-quoted "… 048 22" is therefore NOT a valid NIR; it is in the invalid-key table.)
// Wikipedia fr's example 2 69 05 49 588 157 80: 2690549588157 mod 97 = 17, key 97 − 17 = 80.
// Corsica: 1 55 03 2A 004 012 reads as 1550319004012, mod 97 = 44, key 53;
//          1 55 03 2B 004 012 reads as 1550318004012, mod 97 = 17, key 80;
//          without substitution (as "20") 1550320004012 mod 97 = 71, key 26, which must be rejected.
const keyTable: [string, string][] = [
  ['1850578006048', '30'],
  ['2690549588157', '80'],
  ['155032A004012', '53'],
  ['155032b004012', '80'],
  ['1550320004012', '26'],
  ['2901197112345', '12'],
  ['1950497612003', '82'],
  ['2881298745078', '97'], // N mod 97 = 0: the key is 97, never 00
  ['1801099350123', '63'],
];

/** Completes 13 characters with their key, for numbers that must fail for another reason. */
const withKey = (first13: string): string => first13 + nirKey(first13);

/** The single issue of the ValidationError thrown by `run`. */
function issueOf(run: () => unknown): { field: string; message: string; error: ValidationError } {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    const validation = error as ValidationError;
    expect(validation.issues).toHaveLength(1);
    return { ...validation.issues[0]!, error: validation };
  }
  throw new Error('expected a ValidationError');
}

describe('nirKey', () => {
  it.each(keyTable)('key of %s is %s', (first13, key) => {
    expect(nirKey(first13)).toBe(key);
  });

  it.each(['185057800604', '18505780060481', '1850578OO6048', '1A50578006048'])(
    'rejects malformed %s',
    (bad) => {
      expect(() => nirKey(bad)).toThrow(ValidationError);
    },
  );
});

describe('parseNir: valid numbers', () => {
  it.each([
    ['1 85 05 78 006 048 30', { department: '78', commune: '006', order: '048', key: '30' }],
    ['269054958815780', { sex: '2', year: '69', month: '05', department: '49', commune: '588' }],
    ['1 55 03 2A 004 012 53', { department: '2A', commune: '004' }],
    ['1 55 03 2a 004 012 53', { value: '155032A00401253', department: '2A' }],
    ['1 55 03 2B 004 012 80', { department: '2B', commune: '004' }],
    ['1 55 03 20 004 012 26', { department: '20' }], // pre-1976 Corsica code
    ['2 90 11 971 12 345 12', { department: '971', commune: '12', order: '345', countryCode: undefined }],
    ['1 95 04 976 12 003 82', { department: '976', commune: '12', order: '003' }],
    ['2 88 12 987 45 078 97', { department: '987', commune: '45', key: '97' }],
    ['1 80 10 99 350 123 63', { department: '99', commune: '350', countryCode: '350' }], // Morocco
    ['1 85 20 75 006 048 60', { month: '20' }],
    ['1 85 35 75 006 048 09', { month: '35' }],
    ['1 85 62 75 006 048 53', { month: '62' }],
    ['\t185057800604830 ', { value: '185057800604830' }],
  ] as [string, Partial<Nir>][])('accepts %s', (input, expected) => {
    expect(parseNir(input)).toMatchObject(expected);
  });

  it.each(['3', '4', '7', '8'])('accepts provisional sex code %s', (sex) => {
    expect(parseNir(withKey(`${sex}850578006048`)).sex).toBe(sex);
  });
});

describe('parseNir: invalid numbers', () => {
  const length = 'must have 15 characters (13 digits and a 2-digit key)';
  const letters = 'must contain only digits, except 2A or 2B for a birth in Corsica';
  const sex = 'sex code must be 1 or 2 (or 3, 4, 7, 8 for provisional numbers)';
  const month = 'birth month code is not a valid month';
  const department = 'unknown birth department';
  const tunisiaLater = 'birth department of Tunisia is only used for births before its independence';
  const key = 'control key does not match the first 13 characters';

  const cases: [string, string, string][] = [
    ['too short', '18505780060483', length],
    ['too long', '1850578006048300', length],
    ['empty', '', length],
    ['letter O for zero', '1850578OO604830', letters],
    ['letter in the key', '18505780060483X', letters],
    ['Corsica letter out of place', '1A5057800604830', letters],
    ['2C is not Corsica', '155032C00401253', letters],
    ['sex 0', withKey('0850578006048'), sex],
    ['sex 5', withKey('5850578006048'), sex],
    ['sex 9', withKey('9850578006048'), sex],
    ['month 00', withKey('1850078006048'), month],
    ['month 13', withKey('1851378006048'), month],
    ['month 19', withKey('1851978006048'), month],
    ['month 25', withKey('1852578006048'), month],
    ['month 43', withKey('1854378006048'), month],
    ['month 49', withKey('1854978006048'), month],
    ['department 00', withKey('1850500006048'), department],
    ['department 96 after Tunisia’s independence', withKey('1850596006048'), tunisiaLater],
    ['department 96 in April 1956', withKey('1560496006048'), tunisiaLater],
    ['department 970', withKey('1850597012345'), department],
    ['department 979', withKey('1850597912345'), department],
    ['department 980', withKey('1850598012345'), department],
    ['department 983', withKey('1850598312345'), department],
    ['commune 000', withKey('1850578000048'), 'commune code must not be 000'],
    ['overseas commune 00', withKey('2901197100345'), 'commune code must not be 00'],
    ['country 000', withKey('1801099000123'), 'country code must not be 000'],
    ['order 000', withKey('1850578006000'), 'order number must be 001 to 999'],
    ['wrong key 22', '185057800604822', key],
    ['key off by one', '185057800604831', key],
    ['key 00', '185057800604800', key],
    ['key 98', '185057800604898', key],
    ['transposed digits', '185057800608430', key],
    ['2A with the key of "20" (no substitution)', '155032A00401226', key],
    ['2B with the key of "20" (no substitution)', '155032B00401226', key],
    ['2A with the key of 2B', '155032A00401280', key],
  ];

  it.each(cases)('%s', (_label, input, message) => {
    expect(issueOf(() => parseNir(input))).toMatchObject({ field: 'nir', message });
  });

  it('reports the caller-given field name', () => {
    expect(issueOf(() => parseNir('123', 'beneficiaries.0.nir')).field).toBe('beneficiaries.0.nir');
  });

  // Personal data must never reach an error or a log: no run of 4 characters of the input may
  // appear in the message, the issues, or anything else serialised from the error.
  it.each(cases)('the error for "%s" does not echo the input', (_label, input) => {
    const { error } = issueOf(() => parseNir(input));
    const seen = `${error.message} ${JSON.stringify(error.issues)} ${JSON.stringify(error)}`;
    const value = input.replace(/\s+/g, '').toUpperCase();
    for (let i = 0; i + 4 <= value.length; i++) expect(seen).not.toContain(value.slice(i, i + 4));
    expect(seen).not.toMatch(/[0-9]{4}/);
  });
});

describe('buildNir', () => {
  it('builds the worked example', () => {
    const nir = buildNir({
      sex: '1',
      birthYear: 1985,
      birthMonth: 5,
      department: '78',
      commune: '006',
      order: 48,
    });
    expect(nir).toBe('185057800604830');
  });

  it.each([
    [{ department: '2A', commune: '004' }, '155032A00401253'],
    [{ department: '2b', commune: '004' }, '155032B00401280'],
    [{ department: '99', commune: '350' }, '155039935001226'], // 1550399350012 mod 97 = 71, key 26
  ])('builds %o', (place, expected) => {
    expect(buildNir({ sex: '1', birthYear: 1955, birthMonth: 3, order: 12, ...place })).toBe(expected);
  });

  const base = {
    sex: '1' as const,
    birthYear: 1985,
    birthMonth: 5,
    department: '75',
    commune: '006',
    order: 48,
  };
  it.each([
    ['birthMonth', { birthMonth: 0 }],
    ['birthMonth', { birthMonth: 13 }],
    ['birthYear', { birthYear: 1985.5 }],
    ['order', { order: 0 }],
    ['order', { order: 1000 }],
    ['commune', { commune: '6' }],
    ['commune', { department: '971', commune: '006' }],
    ['commune', { commune: '000' }],
    ['department', { department: '96' }],
    ['department', { department: '7' }],
    ['department', { department: '97' }],
    ['department', { department: '9A' }],
    ['department', { department: '970', commune: '12' }],
  ] as [string, Partial<typeof base>][])('rejects an invalid %s (%o)', (field, change) => {
    expect(issueOf(() => buildNir({ ...base, ...change })).field).toBe(field);
  });

  it('round-trips with parseNir and matches the person for 1,000 random identities', () => {
    const random = mulberry32(0x5eed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const int = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1));
    const metropolitan = Array.from({ length: 95 }, (_, i) => String(i + 1).padStart(2, '0'));
    const overseas = [
      '971',
      '972',
      '973',
      '974',
      '975',
      '976',
      '977',
      '978',
      '984',
      '985',
      '986',
      '987',
      '988',
      '989',
    ];
    const departments = [...metropolitan, '2A', '2B', ...overseas, '99'];

    for (let i = 0; i < 1000; i++) {
      const sex = pick(['1', '2'] as const);
      const birthYear = int(1900, 2025);
      const birthMonth = int(1, 12);
      const department = pick(departments);
      const commune = department.length === 3 ? pad(int(1, 99), 2) : pad(int(1, 999), 3);
      const order = int(1, 999);
      const value = buildNir({ sex, birthYear, birthMonth, department, commune, order });
      const nir = parseNir(value);
      expect(nir).toEqual({
        value,
        sex,
        year: pad(birthYear % 100, 2),
        month: pad(birthMonth, 2),
        department,
        commune,
        countryCode: department === '99' ? commune : undefined,
        order: pad(order, 3),
        key: nirKey(value.slice(0, 13)),
      });
      expect(parseNir(formatNir(value))).toEqual(nir);
      const person = {
        sex: sex === '1' ? ('M' as const) : ('F' as const),
        birthDate: `${birthYear}-${pad(birthMonth, 2)}-${pad(int(1, 28), 2)}`,
        birthDepartment: department === '99' ? undefined : department,
      };
      expect(nirMatchesPerson(nir, person)).toEqual([]);
    }
  });
});

describe('nirMatchesPerson', () => {
  const nir = parseNir('185057800604830');
  const person = { sex: 'M' as const, birthDate: '1985-05-17', birthDepartment: '78' as string | undefined };
  const corsica20 = parseNir('155032000401226');
  const sexMessage = 'sex code does not match the sex';
  const yearMessage = 'birth year does not match the birth date';
  const monthMessage = 'birth month does not match the birth date';
  const placeMessage = 'birth department does not match';
  const abroadMessage = 'birth place is not coded as abroad';

  it.each([
    ['a consistent person', nir, person, []],
    ['a woman', nir, { ...person, sex: 'F' }, [sexMessage]],
    ['another century, same 2 digits', nir, { ...person, birthDate: '1885-05-17' }, []],
    ['another year', nir, { ...person, birthDate: '1986-05-17' }, [yearMessage]],
    ['another month', nir, { ...person, birthDate: '1985-06-17' }, [monthMessage]],
    ['another department', nir, { ...person, birthDepartment: '75' }, [placeMessage]],
    ['a person born abroad', nir, { ...person, birthDepartment: undefined }, [abroadMessage]],
    [
      'everything wrong',
      nir,
      { sex: 'F', birthDate: '1990-01-01', birthDepartment: '75' },
      [sexMessage, yearMessage, monthMessage, placeMessage],
    ],
    ['unknown month code 20', parseNir(withKey('1852078006048')), { ...person, birthDate: '1985-11-30' }, []],
    ['unknown month code 62', parseNir(withKey('1856278006048')), { ...person, birthDate: '1985-01-02' }, []],
    ['provisional male code 3', parseNir(withKey('3850578006048')), person, []],
    ['provisional male code 7', parseNir(withKey('7850578006048')), person, []],
    ['provisional female code 4 for a man', parseNir(withKey('4850578006048')), person, [sexMessage]],
    ['provisional female code 8', parseNir(withKey('8850578006048')), { ...person, sex: 'F' }, []],
    [
      'born abroad, NIR 99',
      parseNir('180109935012363'),
      { sex: 'M', birthDate: '1980-10-01', birthDepartment: undefined },
      [],
    ],
    [
      'born in France, NIR 99',
      parseNir('180109935012363'),
      { sex: 'M', birthDate: '1980-10-01', birthDepartment: '75' },
      [placeMessage],
    ],
    ['"20" for 2A before 1976', corsica20, { sex: 'M', birthDate: '1955-03-01', birthDepartment: '2A' }, []],
    ['"20" for 2b before 1976', corsica20, { sex: 'M', birthDate: '1955-03-01', birthDepartment: '2b' }, []],
    [
      '2A for "20" before 1976',
      parseNir('155032A00401253'),
      { sex: 'M', birthDate: '1955-03-01', birthDepartment: '20' },
      [],
    ],
    [
      '"20" after 1975',
      parseNir(withKey('1800320004012')),
      { sex: 'M', birthDate: '1980-03-01', birthDepartment: '2A' },
      [placeMessage],
    ],
    [
      '2A for 2B',
      parseNir('155032A00401253'),
      { sex: 'M', birthDate: '1955-03-01', birthDepartment: '2B' },
      [placeMessage],
    ],
    [
      'overseas 971',
      parseNir('290119711234512'),
      { sex: 'F', birthDate: '1990-11-05', birthDepartment: '971' },
      [],
    ],
    [
      'overseas 971 vs 97',
      parseNir('290119711234512'),
      { sex: 'F', birthDate: '1990-11-05', birthDepartment: '97' },
      [placeMessage],
    ],
  ] as [string, Nir, Parameters<typeof nirMatchesPerson>[1], string[]][])(
    '%s',
    (_label, subject, who, messages) => {
      const issues = nirMatchesPerson(subject, who);
      expect(issues.map((issue) => issue.message)).toEqual(messages);
      for (const issue of issues) {
        expect(issue.field).toBe('nir');
        expect(issue.message).not.toMatch(/[0-9]/); // no value, not even a year or a department
      }
    },
  );

  it.each(['17/05/1985', '1985-5-17', ''])('reports a malformed birth date %j on birthDate', (birthDate) => {
    expect(nirMatchesPerson(nir, { ...person, birthDate })).toEqual([
      { field: 'birthDate', message: 'must be a date in YYYY-MM-DD form' },
    ]);
  });
});

// Births in French North Africa before independence (NORTH_AFRICA in nir.ts): 91–94 Algeria,
// 95 Morocco, 96 Tunisia; first days of independence 3 July 1962, 2 March 1956, 20 March 1956.
describe('North-African department codes', () => {
  const ALGERIA = '99352';
  const MOROCCO = '99350';
  const TUNISIA = '99351';
  /** A NIR built by the key rule for a man born on `birthDate` with this department and commune. */
  const nirOf = (department: string, birthDate: string, commune = '352'): Nir =>
    parseNir(
      buildNir({
        sex: '1',
        birthYear: Number(birthDate.slice(0, 4)),
        birthMonth: Number(birthDate.slice(5, 7)),
        department,
        commune,
        order: 17,
      }),
    );
  const abroad = (birthDate: string, birthCountryCode: string) => ({
    sex: 'M' as const,
    birthDate,
    birthDepartment: undefined,
    birthCountryCode,
  });
  const inFrance = (birthDate: string, birthDepartment: string) => ({
    sex: 'M' as const,
    birthDate,
    birthDepartment,
  });
  const algeriaLater = 'birth department of Algeria is only used for births before its independence';
  const moroccoLater = 'birth department of Morocco is only used for births before its independence';
  const tunisiaLater = 'birth department of Tunisia is only used for births before its independence';
  const notTunisia = 'birth department of Tunisia is only used for births in Tunisia before its independence';
  const elsewhere = (country: string): string =>
    `birth place is coded in France, or ${country} before independence, but the birth is elsewhere abroad`;

  it.each([
    ['91, Algiers 1955', '91', '1955-06-10', abroad('1955-06-10', ALGERIA), []],
    ['92, Oran 1950', '92', '1950-01-31', abroad('1950-01-31', ALGERIA), []],
    ['93, Constantine 1961', '93', '1961-12-01', abroad('1961-12-01', ALGERIA), []],
    ['94, Territoires du Sud 1940', '94', '1940-02-29', abroad('1940-02-29', ALGERIA), []],
    ['91, the day before Algeria’s independence', '91', '1962-07-02', abroad('1962-07-02', ALGERIA), []],
    [
      '91, on the day France recognised it',
      '91',
      '1962-07-03',
      abroad('1962-07-03', ALGERIA),
      [algeriaLater],
    ],
    [
      '91, on the day Algeria celebrates it',
      '91',
      '1962-07-05',
      abroad('1962-07-05', ALGERIA),
      [algeriaLater],
    ],
    ['94, Algeria 1963', '94', '1963-04-01', abroad('1963-04-01', ALGERIA), [algeriaLater]],
    ['95, Casablanca 1950', '95', '1950-08-20', abroad('1950-08-20', MOROCCO), []],
    ['95, the day before Morocco’s independence', '95', '1956-03-01', abroad('1956-03-01', MOROCCO), []],
    ['95, on Morocco’s independence', '95', '1956-03-02', abroad('1956-03-02', MOROCCO), [moroccoLater]],
    ['95, Morocco 1980', '95', '1980-01-15', abroad('1980-01-15', MOROCCO), [moroccoLater]],
    ['96, Tunis 1950', '96', '1950-04-12', abroad('1950-04-12', TUNISIA), []],
    ['96, the day before Tunisia’s independence', '96', '1956-03-19', abroad('1956-03-19', TUNISIA), []],
    ['96, on Tunisia’s independence', '96', '1956-03-20', abroad('1956-03-20', TUNISIA), [tunisiaLater]],
    [
      '96, Tunisia 2003 (the NIR reads as 1903)',
      '96',
      '2003-02-01',
      abroad('2003-02-01', TUNISIA),
      [tunisiaLater],
    ],
    // The day may be unknown (00): the date counts from its first possible day.
    ['96, Tunisia March 1956, day unknown', '96', '1956-03-01', abroad('1956-03-00', TUNISIA), []],
    ['99 + Algeria, Algiers 1955', '99', '1955-06-10', abroad('1955-06-10', ALGERIA), []],
    ['91 for Essonne, 1985', '91', '1985-05-17', inFrance('1985-05-17', '91'), []],
    ['78 for Essonne before 1968 (Seine-et-Oise)', '78', '1955-05-17', inFrance('1955-05-17', '91'), []],
    ['75 for Hauts-de-Seine before 1968 (Seine)', '75', '1967-12-31', inFrance('1967-12-31', '92'), []],
    [
      '78 for Essonne in 1968',
      '78',
      '1968-01-01',
      inFrance('1968-01-01', '91'),
      ['birth department does not match'],
    ],
    [
      '75 for Yvelines before 1968',
      '75',
      '1955-05-17',
      inFrance('1955-05-17', '78'),
      ['birth department does not match'],
    ],
    ['95 for Val-d’Oise, 1950', '95', '1950-05-17', inFrance('1950-05-17', '95'), []],
    ['92 for Hauts-de-Seine, 1955', '92', '1955-05-17', inFrance('1955-05-17', '92'), []],
    [
      '91 for a birth in Paris',
      '91',
      '1955-05-17',
      inFrance('1955-05-17', '75'),
      ['birth department does not match'],
    ],
    ['96 for a birth in France', '96', '1950-04-12', inFrance('1950-04-12', '75'), [notTunisia]],
    ['96 for a birth in Algeria', '96', '1950-04-12', abroad('1950-04-12', ALGERIA), [elsewhere('Tunisia')]],
    ['95 for a birth in Algeria', '95', '1950-04-12', abroad('1950-04-12', ALGERIA), [elsewhere('Morocco')]],
    ['91 for a birth in Morocco', '91', '1950-04-12', abroad('1950-04-12', MOROCCO), [elsewhere('Algeria')]],
    ['93 for a birth in Portugal', '93', '1950-04-12', abroad('1950-04-12', '99139'), [elsewhere('Algeria')]],
  ] as [string, string, string, Parameters<typeof nirMatchesPerson>[1], string[]][])(
    '%s',
    (_label, department, nirDate, person, messages) => {
      const nir = nirOf(department, nirDate);
      expect(nir.department).toBe(department);
      const issues = nirMatchesPerson(nir, person);
      expect(issues.map((issue) => issue.message)).toEqual(messages);
      for (const issue of issues) {
        expect(issue.field).toBe('nir');
        expect(issue.message).not.toMatch(/[0-9]/);
      }
    },
  );

  it('reads the place of a 96 NIR as department 96 and its commune, not as a country', () => {
    const nir = nirOf('96', '1950-04-12', '101');
    expect(nir).toMatchObject({ department: '96', commune: '101', countryCode: undefined });
    expect(formatNir(nir.value)).toMatch(/^1 50 04 96 101 017 \d\d$/);
  });

  it('refuses a 96 NIR whose year and month cannot be before 20 March 1956, and builds none', () => {
    for (const [year, month] of [
      [1956, 4],
      [1957, 1],
      [1985, 5],
    ] as const) {
      const body = `1${String(year % 100).padStart(2, '0')}${String(month).padStart(2, '0')}96101017`;
      expect(issueOf(() => parseNir(body + nirKey(body)))).toMatchObject({
        field: 'nir',
        message: tunisiaLater,
      });
      expect(
        issueOf(() =>
          buildNir({
            sex: '1',
            birthYear: year,
            birthMonth: month,
            department: '96',
            commune: '101',
            order: 17,
          }),
        ).field,
      ).toBe('department');
    }
    // March 1956 and an unknown month code of 1956 may be before the 20th: the person's date decides.
    for (const month of ['03', '20', '50']) {
      const body = `156${month}96101017`;
      expect(parseNir(body + nirKey(body)).department).toBe('96');
    }
  });

  it('still refuses the commune 000 and a wrong key for these departments', () => {
    const zero = '15004960000' + '17';
    expect(issueOf(() => parseNir(withKey(zero))).message).toBe('commune code must not be 000');
    const good = nirOf('91', '1955-06-10').value;
    const wrong = good.slice(0, 13) + String((Number(good.slice(13)) % 97) + 1).padStart(2, '0');
    expect(issueOf(() => parseNir(wrong)).message).toBe('control key does not match the first 13 characters');
  });
});

describe('formatNir', () => {
  it.each([
    ['185057800604830', '1 85 05 78 006 048 30'],
    ['1 85 05 78 006 048 30', '1 85 05 78 006 048 30'],
    ['155032a00401253', '1 55 03 2A 004 012 53'],
    ['290119711234512', '2 90 11 971 12 345 12'],
    ['288129874507897', '2 88 12 987 45 078 97'],
    ['180109935012363', '1 80 10 99 350 123 63'],
  ])('formats %s as %s', (input, expected) => {
    expect(formatNir(input)).toBe(expected);
  });

  it('refuses to format an invalid number', () => {
    expect(() => formatNir('185057800604822')).toThrow(ValidationError);
  });
});

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** A small seeded PRNG so that the random round-trip is reproducible. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
