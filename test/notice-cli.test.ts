/**
 * `rempart notice sign|verify` and `rempart keys rotate-notices` as an operator and a recipient run
 * them, offline (a keyring, no database): a signed notice verifies (exit 0) from the keyring; one
 * changed field fails (exit 1); after a rotation the notice signed before still verifies, from the
 * keyring and from a keys file as GET /api/v1/notices/keys serves it; a keys file without its key
 * fails it. With a data folder, a text holding `{code}` is signed with a registered code that the
 * notice carries and the message check finds as the kind and channel given.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCtx } from '../src/context.ts';
import { createKeyring, loadKeyring } from '../src/crypto/keyring.ts';
import { openDb } from '../src/db/open.ts';
import { findMessage } from '../src/notify/codes.ts';
import { publishedNoticeKeys } from '../src/notify/verify-notice.ts';
import { cliEnv, initDataDir, lastJsonLine, rempart } from './helpers/cli.ts';
import { emptyServerDatabase } from './helpers/db.ts';

describe('rempart notice verify, notice sign, keys rotate-notices', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let keyringPath: string;
  const file = (name: string) => path.join(dir, name);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rempart-notice-cli-'));
    keyringPath = file('keyring.json');
    await createKeyring(keyringPath);
    env = cliEnv({ REMPART_DATA: file('data'), REMPART_KEYRING: keyringPath });
    await writeFile(
      file('text.txt'),
      'Rempart - Information\nLes données suivantes :\n- votre adresse électronique\n\nVérifiez-le.\n',
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('signs a notice, verifies it, refuses it with one field changed, and still verifies it after a rotation', async () => {
    const signed = await rempart(['notice', 'sign', file('text.txt'), '--json'], env);
    expect(signed.code, signed.stderr).toBe(0);
    const { notice, signedBy, code } = lastJsonLine(signed.stdout) as {
      notice: string;
      signedBy: string;
      code: null;
    };
    expect(code).toBeNull(); // no {code} in the text: nothing registered, no database opened
    await writeFile(file('notice.txt'), notice);
    await writeFile(file('changed.txt'), notice.replace('adresse électronique', 'numéro de téléphone'));

    const good = await rempart(['notice', 'verify', file('notice.txt'), '--json'], env);
    expect(good.code, good.stderr).toBe(0);
    expect(lastJsonLine(good.stdout)).toEqual({ genuine: true, signedBy, code: null, keys: 'keyring' });
    const changed = await rempart(['notice', 'verify', file('changed.txt')], env);
    expect(changed.code).toBe(1);
    expect(changed.stdout).toMatch(/^NOT genuine: /);

    const rotated = await rempart(['keys', 'rotate-notices', '--json'], env);
    expect(rotated.code, rotated.stderr).toBe(0);
    const summary = lastJsonLine(rotated.stdout) as { current: string; keys: { name: string }[] };
    expect(summary.current).not.toBe(signedBy);
    expect(summary.keys.map((k) => k.name)).toEqual([summary.current, signedBy]);
    expect(await readFile(keyringPath, 'utf8')).toContain(summary.current);

    const fromKeyring = await rempart(['notice', 'verify', file('notice.txt')], env);
    expect(fromKeyring.code, fromKeyring.stderr).toBe(0);
    // The keys file a recipient saves from GET /api/v1/notices/keys (the route's own function).
    const published = publishedNoticeKeys((await loadKeyring(keyringPath)).noticeSigning);
    await writeFile(file('keys.json'), JSON.stringify({ keys: published }));
    await writeFile(file('new-only.json'), JSON.stringify({ keys: published.filter((k) => k.current) }));
    // Or one verifier key a line, as any signed-note tool takes them.
    await writeFile(file('keys.txt'), `${published.map((k) => k.key).join('\n')}\n`);
    const lines = await rempart(['notice', 'verify', file('notice.txt'), '--keys', file('keys.txt')], env);
    expect(lines.code, lines.stderr).toBe(0);
    const offline = await rempart(['notice', 'verify', file('notice.txt'), '--keys', file('keys.json')], env);
    expect(offline.code, offline.stderr).toBe(0);
    expect(offline.stdout).toContain(`genuine: signed by ${signedBy}`);
    const without = await rempart(
      ['notice', 'verify', file('notice.txt'), '--keys', file('new-only.json'), '--json'],
      env,
    );
    expect(without.code).toBe(1);
    expect(lastJsonLine(without.stdout)).toMatchObject({ genuine: false, keys: 'file' });
  }, 60_000);

  it('signs a text holding {code} with a registered code: the notice carries it, and the code checks as its kind and channel', async () => {
    const server = await emptyServerDatabase();
    const data = cliEnv({ REMPART_DATA: file('data2'), DATABASE_URL: server?.url });
    try {
      await initDataDir(data);
      await writeFile(file('coded.txt'), 'Rempart - Information\nCode de vérification : {code}\n');
      const signed = await rempart(
        ['notice', 'sign', file('coded.txt'), '--kind', 'manual_notice', '--channel', 'letter', '--json'],
        data,
      );
      expect(signed.code, signed.stderr).toBe(0);
      const { notice, code } = lastJsonLine(signed.stdout) as { notice: string; code: string };
      expect(code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
      expect(notice).toContain(`Code de vérification : ${code}\n`);
      expect(notice).not.toContain('{code}');
      await writeFile(file('coded-notice.txt'), notice);
      const checked = await rempart(['notice', 'verify', file('coded-notice.txt'), '--json'], data);
      expect(checked.code, checked.stderr).toBe(0);
      expect(lastJsonLine(checked.stdout)).toMatchObject({ genuine: true, code });
      const db = await openDb({ dataDir: file('data2'), databaseUrl: server?.url });
      try {
        const found = await db.tx(systemCtx('test').actor, (tx) => findMessage(tx, code));
        expect(found).toMatchObject({ kind: 'manual_notice', channel: 'letter' });
      } finally {
        await db.close();
      }
    } finally {
      await server?.drop();
    }
  }, 60_000);
});
