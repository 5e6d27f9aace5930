import { describe, expect, it } from 'vitest';
import { withNewNoticeKey } from './keyring.ts';
import { noticeVerifierKeys, signNotice, verifyNotice } from './notice-signing.ts';

describe('signed notices', () => {
  const body = 'Rempart — avis de violation de données\nChamps exposés : nom, date de naissance\n';

  it('verify as signed, and fail with one character changed or under another key', () => {
    const keys = withNewNoticeKey(undefined);
    const note = signNotice(keys, body);
    expect(verifyNotice(note, noticeVerifierKeys(keys))).toEqual({
      genuine: true,
      body,
      signedBy: keys.current,
    });
    const altered = note.replace('date de naissance', 'date de naissancf');
    expect(verifyNotice(altered, noticeVerifierKeys(keys)).genuine).toBe(false);
    const other = withNewNoticeKey(undefined);
    expect(verifyNotice(note, noticeVerifierKeys(other))).toMatchObject({ genuine: false });
  });

  it('still verify after rotation; new notices are signed by the new key', () => {
    const first = withNewNoticeKey(undefined);
    const old = signNotice(first, body);
    const rotated = withNewNoticeKey(first);
    expect(rotated.current).not.toBe(first.current);
    const fresh = signNotice(rotated, body);
    expect(verifyNotice(old, noticeVerifierKeys(rotated))).toMatchObject({
      genuine: true,
      signedBy: first.current,
    });
    expect(verifyNotice(fresh, noticeVerifierKeys(rotated))).toMatchObject({
      genuine: true,
      signedBy: rotated.current,
    });
  });
});
