import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { newEd25519Signer } from './audit/checkpoint.ts';
import { newCosigner } from './audit/cosignature.ts';
import { loadConfig } from './config.ts';
import { AppError } from './errors.ts';

/** The AppError loadConfig throws for `env`, or fails the test if it does not throw one. */
function configError(env: NodeJS.ProcessEnv): AppError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error('loadConfig accepted a bad configuration');
}

const W1 = newCosigner('w1.example.org').verifierKey;
const W2 = newCosigner('w2.example.org').verifierKey;

describe('loadConfig', () => {
  it('defaults to localhost:8080, ./data resolved, embedded PGlite and info logs', () => {
    const config = loadConfig({});
    expect(config.host).toBe('localhost');
    // The address printed and used for cookies and WebAuthn is the one listened on.
    expect(new URL(config.publicUrl).hostname).toBe(config.host);
    expect(config.logFormat).toBe('auto');
    expect(config.port).toBe(8080);
    expect(config.dataDir).toBe(path.resolve('./data'));
    expect(path.isAbsolute(config.dataDir)).toBe(true);
    expect(config.keyringPath).toBe(path.join(path.resolve('./data'), 'keyring.json'));
    expect(config.databaseUrl).toBeUndefined();
    expect(config.logLevel).toBe('info');
  });

  it('accepts valid values', () => {
    const config = loadConfig({
      PORT: '3000',
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgresql://rempart@db.internal:5432/rempart',
      LOG_LEVEL: 'warn',
      REMPART_DATA: '/var/lib/rempart',
    });
    expect(config).toMatchObject({
      port: 3000,
      host: '0.0.0.0',
      databaseUrl: 'postgresql://rempart@db.internal:5432/rempart',
      logLevel: 'warn',
      dataDir: '/var/lib/rempart',
    });
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '0'],
    ['PORT', '70000'],
    ['PORT', '80.5'],
    ['DATABASE_URL', 'mysql://x'],
    ['DATABASE_URL', 'not a url'],
    ['LOG_LEVEL', 'verbose'],
    ['HOST', 'evil host;rm'],
  ])('refuses %s=%s with bad_configuration naming the variable', (name, value) => {
    const error = configError({ [name]: value });
    expect(error.code).toBe('bad_configuration');
    expect(error.message).toContain(name);
    expect(error.issues.map((issue) => issue.field)).toEqual([name]);
  });

  it('names every bad variable in one message', () => {
    const error = configError({ PORT: 'abc', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' });
    expect(error.code).toBe('bad_configuration');
    for (const name of ['PORT', 'DATABASE_URL', 'LOG_LEVEL']) expect(error.message).toContain(name);
    expect(error.issues.map((issue) => issue.field).sort()).toEqual(['DATABASE_URL', 'LOG_LEVEL', 'PORT']);
  });

  it('retention: the legal defaults, shorter periods accepted, longer than the labour code refused', () => {
    expect(loadConfig({}).retention).toEqual({
      periods: { archiveMonths: 12, destroyYears: 20, candidateMonths: 24 },
      dailyAt: { hour: 2, minute: 30 },
    });
    expect(
      loadConfig({
        REMPART_RETENTION_ARCHIVE_MONTHS: '6',
        REMPART_RETENTION_DESTROY_YEARS: '10',
        REMPART_RETENTION_CANDIDATE_MONTHS: '12',
        REMPART_RETENTION_DAILY_AT: 'off',
      }).retention,
    ).toEqual({ periods: { archiveMonths: 6, destroyYears: 10, candidateMonths: 12 }, dailyAt: null });
    const error = configError({
      REMPART_RETENTION_DESTROY_YEARS: '21',
      REMPART_RETENTION_DAILY_AT: '25:00',
    });
    expect(error.issues.map((issue) => issue.field).sort()).toEqual([
      'REMPART_RETENTION_DAILY_AT',
      'REMPART_RETENTION_DESTROY_YEARS',
    ]);
    expect(
      configError({ REMPART_RETENTION_ARCHIVE_MONTHS: '60', REMPART_RETENTION_DESTROY_YEARS: '4' }).issues,
    ).toEqual([
      {
        field: 'REMPART_RETENTION_ARCHIVE_MONTHS',
        message: 'must not be longer than REMPART_RETENTION_DESTROY_YEARS',
      },
    ]);
  });

  it('does not echo a witness URL, which may hold a password', () => {
    const error = configError({ REMPART_WITNESSES: 'https://user:s3cret@w1.example.org=nokey' });
    expect(error.message).not.toContain('s3cret');
    expect(error.issues.map((issue) => issue.field)).toEqual(['REMPART_WITNESSES']);
  });

  it('the controller and its DPO for the art. 33 notification: unset by default, a bad DPO address refused', () => {
    expect(loadConfig({}).controller).toEqual({ controllerName: null, dpoName: null, dpoEmail: null });
    expect(
      loadConfig({
        REMPART_CONTROLLER_NAME: ' Opérateur ',
        REMPART_DPO_NAME: 'D. P.',
        REMPART_DPO_EMAIL: 'dpo@x.fr',
      }).controller,
    ).toEqual({ controllerName: 'Opérateur', dpoName: 'D. P.', dpoEmail: 'dpo@x.fr' });
    expect(configError({ REMPART_DPO_EMAIL: 'not an address' }).issues.map((i) => i.field)).toEqual([
      'REMPART_DPO_EMAIL',
    ]);
  });

  it('does not echo a DATABASE_URL, which may hold a password', () => {
    const error = configError({ DATABASE_URL: 'mysql://admin:s3cret@db/x' });
    expect(error.message).not.toContain('s3cret');
  });

  it('audit: defaults to a checkpoint every 1000 events or 60 s, sequencing every 500 ms, a file in the data folder', () => {
    const config = loadConfig({ REMPART_DATA: '/var/lib/rempart' });
    expect(config.audit).toEqual({
      checkpointEvents: 1000,
      checkpointSeconds: 60,
      sequenceMs: 500,
      checkpointFile: '/var/lib/rempart/audit-checkpoints.txt',
      lagAlertSeconds: 60,
      witnesses: [],
    });
  });

  it('audit: accepts valid values', () => {
    const config = loadConfig({
      REMPART_AUDIT_CHECKPOINT_EVENTS: '50',
      REMPART_AUDIT_CHECKPOINT_SECONDS: '5',
      REMPART_AUDIT_SEQUENCE_MS: '100',
      REMPART_AUDIT_CHECKPOINT_FILE: '/srv/published/checkpoints.txt',
      REMPART_AUDIT_LAG_ALERT_SECONDS: '120',
      REMPART_WITNESSES: ` https://w1.example.org/=${W1} , http://127.0.0.1:8090=${W2}`,
    });
    expect(config.audit).toEqual({
      checkpointEvents: 50,
      checkpointSeconds: 5,
      sequenceMs: 100,
      checkpointFile: '/srv/published/checkpoints.txt',
      lagAlertSeconds: 120,
      witnesses: [
        { url: 'https://w1.example.org', key: W1 },
        { url: 'http://127.0.0.1:8090', key: W2 },
      ],
    });
  });

  it.each([
    ['REMPART_AUDIT_CHECKPOINT_EVENTS', '0'],
    ['REMPART_AUDIT_CHECKPOINT_EVENTS', 'many'],
    ['REMPART_AUDIT_CHECKPOINT_SECONDS', '0'],
    ['REMPART_AUDIT_CHECKPOINT_SECONDS', '1.5'],
    ['REMPART_AUDIT_SEQUENCE_MS', '5'],
    ['REMPART_AUDIT_SEQUENCE_MS', '600000'],
    ['REMPART_AUDIT_CHECKPOINT_FILE', '/tmp/a\nb'],
    ['REMPART_AUDIT_LAG_ALERT_SECONDS', '0'],
    ['REMPART_WITNESSES', 'https://w1.example.org'],
    ['REMPART_WITNESSES', `ftp://w1.example.org=${W1}`],
    ['REMPART_WITNESSES', `https://w1.example.org=${W1.replace(/\+[0-9a-f]{8}\+/, '+00000000+')}`],
    // a log's checkpoint key (type 0x01) is not a witness's cosignature key (type 0x04)
    ['REMPART_WITNESSES', `https://w1.example.org=${newEd25519Signer('w1').verifierKey}`],
    ['REMPART_WITNESSES', `https://a.example.org=${W1},https://b.example.org=${W1}`],
  ])('audit: refuses %s=%j naming the variable', (name, value) => {
    const error = configError({ [name]: value });
    expect(error.code).toBe('bad_configuration');
    expect(error.issues.map((issue) => issue.field)).toEqual([name]);
  });

  it('clock and proxies: the system clock and no trusted proxy by default', () => {
    const config = loadConfig({});
    expect(config.clock).toBe('system');
    expect(config.trustProxy).toEqual([]);
  });

  it('accepts REMPART_CLOCK=simulated and TRUST_PROXY as comma-separated addresses and CIDR ranges', () => {
    const config = loadConfig({
      REMPART_CLOCK: 'simulated',
      TRUST_PROXY: ' 127.0.0.1, 10.0.0.0/8 ,::1,fd00::/8,',
    });
    expect(config.clock).toBe('simulated');
    expect(config.trustProxy).toEqual(['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8']);
  });

  it.each([
    ['REMPART_CLOCK', 'fast'],
    ['TRUST_PROXY', 'proxy.internal'],
    ['TRUST_PROXY', '10.0.0.0/33'],
    ['TRUST_PROXY', '10.0.0.1,*'],
    ['TRUST_PROXY', '::1/129'],
    ['TRUST_PROXY', '10.0.0.0/8/8'],
    ['TRUST_PROXY', '300.1.1.1'],
  ])('refuses %s=%j naming the variable', (name, value) => {
    const error = configError({ [name]: value });
    expect(error.code).toBe('bad_configuration');
    expect(error.message).toContain(name);
    expect(error.issues.map((issue) => issue.field)).toEqual([name]);
  });

  describe('ProConnect', () => {
    const PROCONNECT = {
      REMPART_PROCONNECT_ISSUER: 'https://auth.agentconnect.gouv.fr/api/v2',
      REMPART_PROCONNECT_CLIENT_ID: 'rempart',
      REMPART_PROCONNECT_CLIENT_SECRET: 'a-secret-of-at-least-sixteen-characters',
    };

    it('is off when no REMPART_PROCONNECT_ variable is set', () => {
      expect(loadConfig({}).proconnect).toBeUndefined();
    });

    it('is on with issuer, client id and secret; the redirect URI defaults to PUBLIC_URL + the callback', () => {
      expect(loadConfig({ ...PROCONNECT, PUBLIC_URL: 'https://rempart.example.gouv.fr' }).proconnect).toEqual(
        {
          issuer: PROCONNECT.REMPART_PROCONNECT_ISSUER,
          clientId: 'rempart',
          clientSecret: PROCONNECT.REMPART_PROCONNECT_CLIENT_SECRET,
          redirectUri: 'https://rempart.example.gouv.fr/api/v1/auth/proconnect/callback',
        },
      );
    });

    it.each([
      [{ REMPART_PROCONNECT_ISSUER: PROCONNECT.REMPART_PROCONNECT_ISSUER }, 'REMPART_PROCONNECT_CLIENT_ID'],
      [{ ...PROCONNECT, REMPART_PROCONNECT_CLIENT_SECRET: '' }, 'REMPART_PROCONNECT_CLIENT_SECRET'],
      [{ ...PROCONNECT, REMPART_PROCONNECT_CLIENT_SECRET: 'short' }, 'REMPART_PROCONNECT_CLIENT_SECRET'],
      [{ ...PROCONNECT, REMPART_PROCONNECT_ISSUER: 'http://idp.example.org' }, 'REMPART_PROCONNECT_ISSUER'],
      [
        { ...PROCONNECT, REMPART_PROCONNECT_ISSUER: 'https://u:p@idp.example.org' },
        'REMPART_PROCONNECT_ISSUER',
      ],
      [
        {
          ...PROCONNECT,
          REMPART_PROCONNECT_REDIRECT_URI: 'https://elsewhere.example/api/v1/auth/proconnect/callback',
        },
        'REMPART_PROCONNECT_REDIRECT_URI',
      ],
      [
        { REMPART_PROCONNECT_REDIRECT_URI: 'http://localhost:8080/api/v1/auth/proconnect/callback' },
        'REMPART_PROCONNECT_REDIRECT_URI',
      ],
    ])(
      'refuses an incomplete or unsafe setting (%#), naming the variable and never the secret',
      (env, field) => {
        const error = configError(env);
        expect(error.issues.map((i) => i.field)).toContain(field);
        expect(error.message).not.toContain(PROCONNECT.REMPART_PROCONNECT_CLIENT_SECRET);
      },
    );

    it('accepts an http issuer on localhost only (a local identity provider)', () => {
      const config = loadConfig({ ...PROCONNECT, REMPART_PROCONNECT_ISSUER: 'http://127.0.0.1:9000' });
      expect(config.proconnect?.issuer).toBe('http://127.0.0.1:9000');
    });
  });
});
