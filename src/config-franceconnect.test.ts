import { describe, expect, it } from 'vitest';
import { loadFranceConnect } from './config-franceconnect.ts';
import type { FieldIssue } from './errors.ts';

const PUBLIC_URL = 'https://rempart.example';
const ENV = {
  REMPART_FRANCECONNECT_ISSUER: 'https://oidc.franceconnect.gouv.fr/api/v2',
  REMPART_FRANCECONNECT_CLIENT_ID: 'client-1',
  REMPART_FRANCECONNECT_CLIENT_SECRET: 'a-secret-of-24-characters',
};

const load = (env: Record<string, string>) => {
  const issues: FieldIssue[] = [];
  return { config: loadFranceConnect(env, PUBLIC_URL, issues), issues };
};

describe('REMPART_FRANCECONNECT_*', () => {
  it('is off when none is set', () => {
    expect(load({})).toEqual({ config: undefined, issues: [] });
  });

  it('defaults the redirect URI to PUBLIC_URL and the algorithm to ES256', () => {
    expect(load(ENV)).toEqual({
      config: {
        issuer: ENV.REMPART_FRANCECONNECT_ISSUER,
        clientId: 'client-1',
        clientSecret: 'a-secret-of-24-characters',
        redirectUri: `${PUBLIC_URL}/api/v1/portal/franceconnect/callback`,
        signingAlg: 'ES256',
      },
      issues: [],
    });
    expect(load({ ...ENV, REMPART_FRANCECONNECT_SIGNING_ALG: 'RS256' }).config?.signingAlg).toBe('RS256');
  });

  it.each<[string, Record<string, string>, string]>([
    [
      'a missing secret',
      { ...ENV, REMPART_FRANCECONNECT_CLIENT_SECRET: '' },
      'REMPART_FRANCECONNECT_CLIENT_SECRET',
    ],
    [
      'a short secret',
      { ...ENV, REMPART_FRANCECONNECT_CLIENT_SECRET: 'short' },
      'REMPART_FRANCECONNECT_CLIENT_SECRET',
    ],
    [
      'an http issuer',
      { ...ENV, REMPART_FRANCECONNECT_ISSUER: 'http://fc.example' },
      'REMPART_FRANCECONNECT_ISSUER',
    ],
    [
      'an HS256 algorithm',
      { ...ENV, REMPART_FRANCECONNECT_SIGNING_ALG: 'HS256' },
      'REMPART_FRANCECONNECT_SIGNING_ALG',
    ],
    [
      'a redirect URI on another origin',
      {
        ...ENV,
        REMPART_FRANCECONNECT_REDIRECT_URI: 'https://evil.example/api/v1/portal/franceconnect/callback',
      },
      'REMPART_FRANCECONNECT_REDIRECT_URI',
    ],
    [
      'a redirect URI without the issuer',
      { REMPART_FRANCECONNECT_REDIRECT_URI: `${PUBLIC_URL}/api/v1/portal/franceconnect/callback` },
      'REMPART_FRANCECONNECT_REDIRECT_URI',
    ],
  ])('refuses %s, naming the variable', (_what, env, field) => {
    const { config, issues } = load(env);
    expect(config).toBeUndefined();
    expect(issues.map((i) => i.field)).toContain(field);
    expect(JSON.stringify(issues)).not.toContain('a-secret-of-24-characters');
  });

  it('accepts a local http issuer (a test identity provider)', () => {
    expect(load({ ...ENV, REMPART_FRANCECONNECT_ISSUER: 'http://127.0.0.1:4000' }).issues).toEqual([]);
  });
});
