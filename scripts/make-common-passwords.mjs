#!/usr/bin/env node
/**
 * Regenerates src/identity/common-passwords.txt, the list of common and breached passwords that
 * checkPasswordPolicy refuses (NIST SP 800-63B-4 §3.1.1.2: compare against passwords "obtained from
 * previous breach corpuses" and "commonly-used, expected, or compromised" values).
 *
 * Sources:
 *  1. The `passwords` dictionary of the npm package @zxcvbn-ts/language-common (4.1.3 when this
 *     was written: https://github.com/zxcvbn-ts/zxcvbn), the frequency-ranked list of passwords
 *     seen in public breaches that the zxcvbn strength estimator uses. MIT licence,
 *     Copyright (c) 2012-2016 Dan Wheeler and Dropbox, Inc., Copyright (c) 2021 @zxcvbn-ts.
 *     The notice is repeated in the header of the generated file, as the licence requires.
 *  2. The hand-written list below: French words, French (AZERTY) keyboard patterns, and the names
 *     of the public employment service and its partners, which attackers try first against its
 *     staff (T1 in DESIGN.md: the 2024 intrusion used partner agents' accounts).
 *
 * Which entries are kept: the policy refuses a password that is a listed one, or a listed one with
 * only digits or '!' before or after it ('password1234!'). So an entry is useful when it is at least
 * 12 characters (the minimum length: it can match whole), or when it has at least 4 characters and
 * one that is neither a digit nor '!' (it can be the core of a longer password). Shorter or purely
 * numeric entries could never match and are dropped. Entries are folded like the policy folds the
 * candidate (NFKD, accents removed, lowercase), deduplicated and sorted (code unit order).
 *
 * Usage:
 *   npm install --no-save @zxcvbn-ts/language-common   (or into any folder, e.g. /tmp/zx)
 *   node scripts/make-common-passwords.mjs [folder holding node_modules/@zxcvbn-ts/language-common]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const output = join(root, 'src/identity/common-passwords.txt');
const MAX_BYTES = 1_000_000;

/** Hand-written entries (before folding); years and '!' variants are generated below. */
const FRENCH = [
  // Keyboard patterns on the French AZERTY layout.
  'azertyuiop',
  'azertyuiop123',
  'azertyuiop1234',
  'azertyuiopqsdfghjklm',
  'azertyuiop^$',
  'azerty123456',
  'azerty123456789',
  'azertyazerty',
  'azertyqwerty',
  'qsdfghjklm',
  'qsdfghjklm123',
  'wxcvbn123456',
  'aqwzsxedcrfv',
  'aqwzsxedcrfvtgb',
  'a1z2e3r4t5y6',
  'a1z2e3r4t5y6u7i8o9p0',
  '&é"\'(-è_çà)=',
  '1234567890azerty',
  '123456789012',
  '1234567890123',
  '123456123456',
  '000000000000',
  // French words and phrases.
  'motdepasse',
  'motdepasse123',
  'motdepasse1234',
  'motdepasse2024',
  'motdepassesecret',
  'nouveaumotdepasse',
  'changezmoi',
  'changemoi123',
  'bienvenue',
  'bienvenue123',
  'bonjour123456',
  'soleil123456',
  'jetaime123456',
  'jetaimemonamour',
  'doudou123456',
  'loulou123456',
  'chouchou1234',
  'marseille1234',
  'allezlom',
  'parisienne',
  'administrateur',
  'utilisateur',
  'confidentiel',
  // The service, its partners and this application.
  'poleemploi',
  'francetravail',
  'capemploi',
  'missionlocale',
  'missionslocales',
  'anpe',
  'assedic',
  'unedic',
  'rempart',
];

/** The names staff are most likely to use with a year, written the ways people type them. */
const SERVICE_NAMES = [
  'poleemploi',
  'pole emploi',
  'pole-emploi',
  'pôle emploi',
  'pôleemploi',
  'pole_emploi',
  'francetravail',
  'france travail',
  'france-travail',
  'france_travail',
];

function yearVariants() {
  const out = [];
  for (const name of SERVICE_NAMES) {
    out.push(name);
    for (let year = 2020; year <= 2026; year += 1) {
      for (const between of ['', ' ']) {
        out.push(`${name}${between}${year}`, `${name}${between}${year}!`);
      }
    }
  }
  return out;
}

/** The same folding as passwords.ts: compatibility decomposition, accents removed, lowercase. */
function fold(text) {
  return text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
}

function useful(entry) {
  const length = [...entry].length;
  if (entry.startsWith('#') || /[\r\n]/.test(entry)) return false; // '#' starts a comment line
  return length >= 12 || (length >= 4 && /[^0-9!]/.test(entry));
}

function loadZxcvbn(folder) {
  const require = createRequire(join(folder, 'package.json'));
  const manifest = require.resolve('@zxcvbn-ts/language-common/package.json');
  const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
  // The package ships its source JSON (src/passwords.json) beside the compressed dist build.
  const list = JSON.parse(readFileSync(join(dirname(manifest), 'src/passwords.json'), 'utf8'));
  if (!Array.isArray(list) || list.some((entry) => typeof entry !== 'string')) {
    throw new Error('unexpected format of @zxcvbn-ts/language-common/src/passwords.json');
  }
  return { version: pkg.version, license: pkg.license, list };
}

const zxcvbn = loadZxcvbn(process.argv[2] ?? root);
if (zxcvbn.license !== 'MIT') throw new Error(`unexpected licence ${zxcvbn.license}`);

const entries = new Set();
for (const entry of [...zxcvbn.list, ...FRENCH, ...yearVariants()]) {
  const folded = fold(entry.trim());
  if (useful(folded)) entries.add(folded);
}
const sorted = [...entries].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

const header = [
  '# Common and breached passwords refused by src/identity/passwords.ts. Generated by',
  '# scripts/make-common-passwords.mjs: do not edit by hand. One folded (lowercase, no accents)',
  "# entry a line; lines starting with '#' are comments.",
  '#',
  `# Includes the passwords dictionary of @zxcvbn-ts/language-common ${zxcvbn.version}`,
  '# (https://github.com/zxcvbn-ts/zxcvbn), under the MIT licence:',
  '#',
  '# Copyright (c) 2012-2016 Dan Wheeler and Dropbox, Inc.',
  '# Copyright (c) 2021 @zxcvbn-ts',
  '#',
  '# Permission is hereby granted, free of charge, to any person obtaining a copy of this software',
  '# and associated documentation files (the "Software"), to deal in the Software without',
  '# restriction, including without limitation the rights to use, copy, modify, merge, publish,',
  '# distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the',
  '# Software is furnished to do so, subject to the following conditions:',
  '#',
  '# The above copyright notice and this permission notice shall be included in all copies or',
  '# substantial portions of the Software.',
  '#',
  '# THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING',
  '# BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND',
  '# NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,',
  '# DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,',
  '# OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.',
];
const text = `${[...header, ...sorted].join('\n')}\n`;
const bytes = Buffer.byteLength(text, 'utf8');
if (bytes > MAX_BYTES) throw new Error(`list is ${bytes} bytes, over the ${MAX_BYTES}-byte budget`);
writeFileSync(output, text);
console.log(`wrote ${sorted.length} entries (${bytes} bytes) to ${output}`);
