/**
 * The order test files start in: the longest first (measured, docs/BENCHMARKS.md "Test suite"),
 * then vitest's own order. With two workers, a long file started last would run alone at the end
 * and lengthen the run by most of its own time; vitest orders by the durations it cached in an
 * earlier run, which a fresh clone (CI) does not have, and falls back on file size there.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** The longest files of `npm test` on PGlite, longest first (update from the file-times reporter). */
export const LONGEST_FILES = [
  'test/drill-guard.test.ts',
  'test/drill-patient.test.ts',
  'test/drill.test.ts',
  'test/pglite-shared.test.ts',
  'test/audit-coverage.test.ts',
  'test/cli.test.ts',
  'test/console-guard.test.ts',
  'test/console-recovery.test.ts',
  'test/first-hour-cli.test.ts',
  'test/cli-input.test.ts',
  'test/audit-scope.test.ts',
  'test/portal.test.ts',
  'test/witness-server.test.ts',
  'test/audit-log.test.ts',
  'test/audit-lag.test.ts',
];

/** vitest's sequencer, with LONGEST_FILES moved to the front in their order. */
export default class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (file: TestSpecification): number => {
      const index = LONGEST_FILES.findIndex((name) => file.moduleId.endsWith(`/${name}`));
      return index === -1 ? LONGEST_FILES.length : index;
    };
    // Array.prototype.sort is stable: the others keep vitest's order.
    return [...sorted].sort((a, b) => rank(a) - rank(b));
  }
}
