/** When `npm start` rebuilds the console: a missing build, or a source newer than the build. */
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { consoleBuildState } from './console-build.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function fakeWeb(): Promise<string> {
  const web = await mkdtemp(path.join(tmpdir(), 'rempart-web-'));
  dirs.push(web);
  await mkdir(path.join(web, 'src', 'staff'), { recursive: true });
  await mkdir(path.join(web, 'public', 'dsfr'), { recursive: true });
  await writeFile(path.join(web, 'index.html'), '<html></html>');
  await writeFile(path.join(web, 'src', 'staff', 'Page.tsx'), 'export {}');
  return web;
}

const at = (iso: string) => new Date(iso);

describe('consoleBuildState', () => {
  it('is stale without a build, fresh after one, stale again when a source (at any depth) is newer', async () => {
    const web = await fakeWeb();
    for (const file of ['index.html', 'src/staff/Page.tsx']) {
      await utimes(path.join(web, file), at('2026-01-01T10:00:00Z'), at('2026-01-01T10:00:00Z'));
    }
    expect((await consoleBuildState(web)).fresh).toBe(false);

    await mkdir(path.join(web, 'dist'));
    await writeFile(path.join(web, 'dist', 'index.html'), 'built');
    await utimes(
      path.join(web, 'dist', 'index.html'),
      at('2026-01-01T11:00:00Z'),
      at('2026-01-01T11:00:00Z'),
    );
    expect((await consoleBuildState(web)).fresh).toBe(true);

    // Copied design-system files and the build's own files are outputs: they never make it stale.
    await writeFile(path.join(web, 'public', 'dsfr', 'dsfr.min.css'), 'x');
    await writeFile(path.join(web, 'dist', 'other.js'), 'x');
    expect((await consoleBuildState(web)).fresh).toBe(true);

    await utimes(
      path.join(web, 'src', 'staff', 'Page.tsx'),
      at('2026-01-01T12:00:00Z'),
      at('2026-01-01T12:00:00Z'),
    );
    const state = await consoleBuildState(web);
    expect(state.fresh).toBe(false);
    expect(state.sources.toISOString()).toBe('2026-01-01T12:00:00.000Z');
  });
});
