import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors.ts';
import { firstGivenName, nameBirthKey, normaliseName } from './normalise.ts';

describe('normaliseName', () => {
  it.each([
    ['accents', 'Éloïse', 'ELOISE'],
    ['accents and spaces around', '  éloïse  ', 'ELOISE'],
    ['all French accents', 'àâäçéèêëîïôöùûüÿ', 'AAACEEEEIIOOUUUY'],
    ['decomposed input (e + U+0301)', 'Dupre\u0301', 'DUPRE'],
    ['case', 'dUpOnT', 'DUPONT'],
    ['hyphen', 'Dupré-Lefèvre', 'DUPRE LEFEVRE'],
    ['hyphen vs space', 'Dupré Lefèvre', 'DUPRE LEFEVRE'],
    ['non-breaking hyphen U+2011', 'Dupré\u2011Lefèvre', 'DUPRE LEFEVRE'],
    ['en dash', 'Dupré – Lefèvre', 'DUPRE LEFEVRE'],
    ['em dash', 'Dupré—Lefèvre', 'DUPRE LEFEVRE'],
    ['minus sign', 'Dupré\u2212Lefèvre', 'DUPRE LEFEVRE'],
    ['double hyphen', 'Dupré--Lefèvre', 'DUPRE LEFEVRE'],
    ['straight apostrophe and hyphen', "D'Artagnan-Dupré", 'D ARTAGNAN DUPRE'],
    ['curly apostrophe', 'D’Artagnan-Dupré', 'D ARTAGNAN DUPRE'],
    ['modifier letter apostrophe', 'DʼArtagnan-Dupré', 'D ARTAGNAN DUPRE'],
    ['backtick', 'D`Artagnan-Dupré', 'D ARTAGNAN DUPRE'],
    ['apostrophe and space', "D' Artagnan", 'D ARTAGNAN'],
    ['ligature œ', 'Lœuilliet', 'LOEUILLIET'],
    ['ligature Œ', 'ŒUVRARD', 'OEUVRARD'],
    ['ligature æ', 'Lætitia', 'LAETITIA'],
    ['ligature Æ', 'ÆLIS', 'AELIS'],
    ['sharp s', 'Straße', 'STRASSE'],
    ['capital sharp s', 'STRAẞE', 'STRASSE'],
    ['dots', 'St. Martin', 'ST MARTIN'],
    ['commas', 'Martin,Durand', 'MARTIN DURAND'],
    ['double spaces', 'Le  Goff', 'LE GOFF'],
    ['tabs and newlines', 'Le\t\nGoff', 'LE GOFF'],
    ['non-breaking space', 'Le\u00a0Goff', 'LE GOFF'],
    ['fullwidth letters', 'ＤＵＰＯＮＴ', 'DUPONT'],
    ['zero-width space', 'Du\u200bpont', 'DUPONT'],
    ['only punctuation', " - ' . ", ''],
    ['empty', '', ''],
  ])('%s: %j → %j', (_label, input, expected) => {
    expect(normaliseName(input)).toBe(expected);
  });
});

describe('firstGivenName', () => {
  it.each([
    ['compound first name', 'Jean-Pierre, Louis', 'JEAN PIERRE'],
    ['no comma: the whole string', 'Jean-Pierre Louis', 'JEAN PIERRE LOUIS'],
    ['single name', 'éloïse', 'ELOISE'],
    ['comma without space', 'Marie,Anne', 'MARIE'],
    ['spaces around the comma', '  Anne-Sophie ,  Claire', 'ANNE SOPHIE'],
    ['three given names', 'Zoé, Léa, Chloé', 'ZOE'],
    ['curly apostrophe in a given name', 'N’Golo, Ibrahim', 'N GOLO'],
  ])('%s: %j → %j', (_label, input, expected) => {
    expect(firstGivenName(input)).toBe(expected);
  });
});

describe('nameBirthKey', () => {
  const reference = nameBirthKey("D'Artagnan-Dupré", 'Jean-Pierre, Louis', '1985-05-17');

  it('is last|first|date, normalised', () => {
    expect(reference).toBe('D ARTAGNAN DUPRE|JEAN PIERRE|1985-05-17');
  });

  it.each([
    ['upper case, no accent', "D'ARTAGNAN-DUPRE", 'JEAN-PIERRE, LOUIS'],
    ['curly apostrophe, spaces', 'D’Artagnan Dupré', 'Jean Pierre'],
    ['only the first given name', "d'artagnan-dupré", 'Jean-Pierre'],
    ['other given names differ', 'D ARTAGNAN DUPRE', 'Jean–Pierre, Paul, Marie'],
    ['decomposed accent, extra spaces', "  D'Artagnan  -  Dupre\u0301 ", ' jean-pierre ,louis'],
  ])('same key for a variant of the same identity: %s', (_label, lastName, firstName) => {
    expect(nameBirthKey(lastName, firstName, '1985-05-17')).toBe(reference);
  });

  it.each([
    ['another birth date', "D'Artagnan-Dupré", 'Jean-Pierre, Louis', '1985-05-18'],
    ['another year', "D'Artagnan-Dupré", 'Jean-Pierre, Louis', '1986-05-17'],
    ['another last name', "D'Artagnan", 'Jean-Pierre, Louis', '1985-05-17'],
    ['only part of a compound first name', "D'Artagnan-Dupré", 'Jean, Pierre', '1985-05-17'],
    ['second given name first', "D'Artagnan-Dupré", 'Louis, Jean-Pierre', '1985-05-17'],
  ])('different key for a different identity: %s', (_label, lastName, firstName, birthDate) => {
    expect(nameBirthKey(lastName, firstName, birthDate)).not.toBe(reference);
  });

  it.each([
    ['lastName', ' - ', 'Jean', '1985-05-17'],
    ['lastName', 'A|B', 'Jean', '1985-05-17'],
    ['firstName', 'Dupont', ', Jean', '1985-05-17'],
    ['firstName', 'Dupont', 'Jean|Paul', '1985-05-17'],
    ['birthDate', 'Dupont', 'Jean', '17/05/1985'],
    ['birthDate', 'Dupont', 'Jean', '1985-5-17'],
  ])('refuses an ambiguous %s', (field, lastName, firstName, birthDate) => {
    try {
      nameBirthKey(lastName, firstName, birthDate);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues).toEqual([{ field, message: expect.any(String) }]);
      expect((error as ValidationError).message).not.toContain(lastName.trim() || '\0');
    }
  });
});
