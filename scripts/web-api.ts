/**
 * Writes the console's API types (web/src/api/schema.d.ts) from the server's own OpenAPI document,
 * as `GET /api/openapi.json` serves it. `npm run web:api` after changing a route; the test
 * test/console-api.test.ts fails while the committed types differ from the served document, and the
 * console's type check fails where a screen uses a route or a field that changed.
 *
 *   node scripts/web-api.ts [--check]
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { consoleApiTypes } from './console-api-types.ts';

const target = path.join(import.meta.dirname, '..', 'web', 'src', 'api', 'schema.d.ts');
const generated = await consoleApiTypes();
if (process.argv.includes('--check')) {
  const committed = await readFile(target, 'utf8').catch(() => '');
  if (committed !== generated) {
    console.error('web/src/api/schema.d.ts differs from /api/openapi.json: run npm run web:api');
    process.exit(1);
  }
  console.error('web/src/api/schema.d.ts matches /api/openapi.json');
} else {
  await writeFile(target, generated);
  console.error(`wrote ${path.relative(process.cwd(), target)}`);
}
