/**
 * The server's logs: readable lines on a terminal (pino-pretty), JSON lines otherwise, and in
 * either form no personal data — not from a login, a search by NIR or by name and birth date, a
 * record opened, or a rejected body (docs/DESIGN.md section 12 in docs/SECURITY.md: URLs carry none,
 * bodies are never logged).
 */
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Config, loadConfig } from '../src/config.ts';
import { buildApp, logDestination } from '../src/http/app.ts';
import { engine } from './helpers/db.ts';
import { type RegistryWorld, registryWorld } from './helpers/registry.ts';
import { enrolled } from './helpers/staff.ts';

/** A stream that keeps what is written to it. */
function sink(): { stream: Writable; text(): string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

describe(`logs on ${engine}`, () => {
  let w: RegistryWorld;
  beforeAll(async () => {
    w = await registryWorld(120);
  }, 120_000);
  afterAll(async () => {
    await w?.close();
  });

  /** An app on the world's database whose logs go to a kept stream, in the given format. */
  async function appLogging(
    format: Config['logFormat'],
    isTerminal: boolean,
  ): Promise<{ app: FastifyInstance; logs(): string }> {
    const out = sink();
    const config = { ...loadConfig({ LOG_LEVEL: 'info', LOG_FORMAT: format }) };
    const app = await buildApp(config, {
      db: w.t.db,
      kms: w.keys.kms,
      registry: w.keys.registry,
      clock: w.clock,
      logStream: out.stream,
      logIsTerminal: isTerminal,
    });
    await app.ready();
    return { app, logs: out.text };
  }

  /** A counselor's working session: login, enrolment, searches by NIR and name, a record opened, a bad body. */
  async function work(app: FastifyInstance): Promise<string[]> {
    const person = w.persons.find((p) => p.agencyOrganisationId === w.agency)!;
    const account = await w.account({ role: 'counselor', organisationId: w.agency });
    const { client } = await enrolled({ ...w, app }, account);
    const { identity } = person;
    const byNir = await client.request('POST', '/api/v1/persons/search', {
      purpose: 'accompaniment',
      by: 'nir',
      nir: identity.nir,
    });
    expect(byNir.statusCode).toBe(200);
    const byName = await client.request('POST', '/api/v1/persons/search', {
      purpose: 'accompaniment',
      by: 'nameBirth',
      lastName: identity.lastName,
      firstName: identity.firstNames.split(', ')[0],
      birthDate: identity.birthDate,
    });
    expect(byName.statusCode).toBe(200);
    const view = await client.request('GET', `/api/v1/persons/${person.id}?purpose=accompaniment`);
    expect(view.statusCode).toBe(200);
    const bad = await client.request('POST', '/api/v1/persons/search', {
      purpose: 'accompaniment',
      by: 'nir',
      nir: identity.nir,
      email: identity.email,
    });
    expect(bad.statusCode).toBe(400);
    // What must not be in the logs: the person's identity and the agent's login and address.
    return [
      identity.nir,
      identity.lastName,
      identity.birthDate,
      identity.agencyId,
      ...(identity.email ? [identity.email] : []),
      account.login,
      account.email,
      person.id,
    ];
  }

  it('on a terminal: readable lines (pino-pretty), none of the personal data', async () => {
    const { app, logs } = await appLogging('auto', true);
    try {
      const secrets = await work(app);
      const text = logs();
      expect(text).toContain('incoming request');
      expect(text).toContain('request completed');
      expect(text).toContain('/api/v1/persons/search');
      // Readable: not one JSON object per line.
      const lines = text.trim().split('\n');
      expect(lines.some((line) => line.startsWith('{'))).toBe(false);
      expect(text).toMatch(/\d{2}:\d{2}:\d{2}.*INFO/);
      for (const secret of secrets) expect(text).not.toContain(secret);
    } finally {
      await app.close();
    }
  });

  it('elsewhere (a file, a pipe): JSON lines with the same fields, none of the personal data', async () => {
    const { app, logs } = await appLogging('auto', false);
    try {
      const secrets = await work(app);
      const lines = logs()
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines).toContainEqual(
        expect.objectContaining({
          msg: 'incoming request',
          req: { method: 'POST', url: '/api/v1/persons/search', requestId: expect.any(String) },
        }),
      );
      expect(lines).toContainEqual(
        expect.objectContaining({
          msg: 'incoming request',
          req: { method: 'GET', url: '/api/v1/persons/:id', requestId: expect.any(String) },
        }),
      );
      for (const secret of secrets) expect(logs()).not.toContain(secret);
    } finally {
      await app.close();
    }
  });

  it('LOG_FORMAT chooses: json stays JSON on a terminal, pretty is readable in a pipe', () => {
    const out = sink();
    expect(logDestination('json', out.stream, true)).toBe(out.stream);
    expect(logDestination('auto', out.stream, false)).toBe(out.stream);
    const pretty = logDestination('pretty', out.stream, false);
    expect(pretty).not.toBe(out.stream);
    pretty.write(`${JSON.stringify({ level: 30, time: Date.now(), msg: 'hello there' })}\n`);
    expect(out.text()).toContain('INFO');
    expect(out.text()).toContain('hello there');
    expect(out.text().trim().startsWith('{')).toBe(false);
    expect(() => loadConfig({ LOG_FORMAT: 'xml' })).toThrow('LOG_FORMAT must be one of auto, json, pretty');
  });
});
