/**
 * Builds the console (web/ → web/dist): the design system's static files copied from node_modules
 * and its icon list reduced to the icons used (react-dsfr copy-static-assets, update-icons), the
 * type check against the API's types (web/src/api/schema.d.ts), then Vite.
 *
 *   node scripts/build-web.ts            build
 *   node scripts/build-web.ts --if-stale build only when web/dist is missing or older than web/
 */
import { buildConsole, consoleBuildState } from '../src/http/console-build.ts';

const ifStale = process.argv.includes('--if-stale');
if (ifStale) {
  const state = await consoleBuildState();
  if (state.fresh) {
    console.error('rempart: the console build is up to date');
    process.exit(0);
  }
}
const result = await buildConsole({ log: (line) => console.error(line) });
console.error(`rempart: console built in ${result.seconds} s (${result.outDir})`);
