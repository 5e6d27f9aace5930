/**
 * A vitest reporter that prints each test file's time (import, then tests and hooks), longest
 * first, and the run's wall time: where the suite's minutes go (docs/BENCHMARKS.md, "Test suite").
 * Use with the default reporter: `npx vitest run --reporter=default --reporter=./test/helpers/file-times.ts`.
 */
import type { Reporter, TestModule } from 'vitest/node';

/** Prints the per-file table when the run ends. */
export default class FileTimes implements Reporter {
  #started = 0;
  #modules: TestModule[] = [];

  onTestRunStart(): void {
    this.#started = performance.now();
  }

  onTestModuleEnd(module: TestModule): void {
    this.#modules.push(module);
  }

  onTestRunEnd(): void {
    const rows = this.#modules.map((module) => {
      const d = module.diagnostic();
      const importSeconds = (d.collectDuration + d.setupDuration) / 1000;
      return {
        file: module.moduleId.replace(`${process.cwd()}/`, ''),
        importSeconds,
        seconds: d.duration / 1000,
      };
    });
    rows.sort((a, b) => b.importSeconds + b.seconds - (a.importSeconds + a.seconds));
    const lines = rows.map(
      (r) =>
        `${(r.importSeconds + r.seconds).toFixed(1).padStart(7)} s  ${r.file}  (import ${r.importSeconds.toFixed(1)} s)`,
    );
    const total = rows.reduce((sum, r) => sum + r.importSeconds + r.seconds, 0);
    const wall = (performance.now() - this.#started) / 1000;
    process.stdout.write(
      `\nfile times, longest first:\n${lines.join('\n')}\n${total.toFixed(1).padStart(7)} s  all files (sum)\n${wall.toFixed(1).padStart(7)} s  wall\n`,
    );
  }
}
