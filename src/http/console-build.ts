/**
 * The console's build (web/ → web/dist), run by `npm start` when the build is missing or older than
 * its sources, by the test suite's global set-up, and by `npm run web:build`. Building needs the
 * project's development dependencies (Vite, React, the design system); serving needs only the output.
 */
import { spawn } from 'node:child_process';
import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/** The project's root folder. */
const ROOT = path.resolve(import.meta.dirname, '..', '..');
/** The console's source folder and its build output. */
export const WEB_DIR = path.join(ROOT, 'web');
export const CONSOLE_DIST = path.join(WEB_DIR, 'dist');

/**
 * What decides a rebuild: the newest file of the console's sources (web/ but its build and the
 * copied design-system files), and the build's time. Fresh when the build is newer than every source.
 */
export async function consoleBuildState(
  webDir = WEB_DIR,
  distDir = path.join(webDir, 'dist'),
): Promise<{ fresh: boolean; built: Date | null; sources: Date }> {
  const built = await stat(path.join(distDir, 'index.html')).then(
    (s) => s.mtime,
    () => null,
  );
  let newest = 0;
  const visit = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      // The build itself and the design system's files copied into public/ are outputs, not sources.
      if (file === distDir || entry.name === 'public' || entry.name === 'node_modules') continue;
      if (entry.isDirectory()) await visit(file);
      else newest = Math.max(newest, (await stat(file)).mtimeMs);
    }
  };
  await visit(webDir);
  const sources = new Date(newest);
  return { fresh: built !== null && built.getTime() >= newest, built, sources };
}

/** Runs a Node.js script of a dependency with this process's Node.js, in `cwd`; fails on a non-zero exit. */
function runNode(script: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // NODE_ENV decides which React Vite bundles: the test runner's "test" would give the development
    // build (larger, slower, with warnings). The console is always built for production.
    const env = { ...process.env, NODE_ENV: 'production' };
    const child = spawn(process.execPath, [script, ...args], {
      cwd,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => {
      errors += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(
            new Error(`${path.basename(script)} ${args.join(' ')} failed (exit ${code}): ${errors.trim()}`),
          ),
    );
  });
}

/** Builds the console; `log` receives a line per step. */
export async function buildConsole(
  options: { log?: (line: string) => void; typecheck?: boolean } = {},
): Promise<{ seconds: number; outDir: string }> {
  const started = performance.now();
  const log = options.log ?? (() => undefined);
  const dsfrBin = path.join(ROOT, 'node_modules', '@codegouvfr', 'react-dsfr', 'bin', 'react-dsfr.js');
  log('rempart: building the console (web/): design system files');
  // The design system's CSS, fonts and icons go to web/public/dsfr (not committed), then only the
  // icons the console uses are kept in its icon sheet.
  await mkdir(path.join(WEB_DIR, 'public'), { recursive: true });
  await runNode(dsfrBin, ['copy-static-assets'], WEB_DIR);
  await runNode(dsfrBin, ['update-icons'], WEB_DIR);
  if (options.typecheck !== false) {
    log('rempart: building the console: type check against the API (web/src/api/schema.d.ts)');
    await runNode(
      path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
      ['-p', 'tsconfig.json'],
      WEB_DIR,
    );
  }
  log('rempart: building the console: bundle (Vite)');
  await runNode(
    path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'),
    ['build', '--logLevel', 'warn'],
    WEB_DIR,
  );
  return { seconds: Math.round((performance.now() - started) / 100) / 10, outDir: CONSOLE_DIST };
}
