import { defineConfig } from 'vitest/config';
import LongestFirst from './test/helpers/longest-first.ts';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // A migrated database built once per run, copied by every test database (test/helpers/db.ts).
    globalSetup: ['test/global-setup.ts'],
    // Database tests each open PGlite instances or PostgreSQL databases: two workers on two cores.
    maxWorkers: 2,
    // The longest files start first, so that none is left running alone at the end.
    sequence: { sequencer: LongestFirst },
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
