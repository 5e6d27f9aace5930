/** The `rempart import` command's definition (arguments, options, output), for rempart.ts and rempart-import.ts. */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { formatIssue, printJson } from './output.ts';
import { run } from './program.ts';

/** Adds `import <file>` to `program`. */
export function addImportCommand(program: Command): void {
  program
    .command('import')
    .description('import persons from a CSV file; refused whole if any row is invalid, unless --skip-invalid')
    .argument('<file>', 'CSV file (header row; columns in docs/IMPORT.md)')
    .option('--skip-invalid', 'import the valid rows and write the invalid ones to a rejects file')
    .option('--rejects <file>', 'where to write the rejects file (default: next to the input)')
    .option('--json', 'print a JSON summary as the last line')
    .action((file: string, options: { skipInvalid?: boolean; rejects?: string; json?: boolean }) =>
      run(!!options.json, async () => {
        const { runImport } = await import('./import.ts');
        const summary = await runImport(loadConfig(), file, {
          skipInvalid: !!options.skipInvalid,
          ...(options.rejects ? { rejects: options.rejects } : {}),
          json: !!options.json,
        });
        // The process's peak memory (docs/IMPORT.md, "Memory": bounded whatever the file's length).
        if (options.json) printJson({ ...summary, peakRssMb: await peakRssMb() });
        else {
          console.log(`imported ${summary.imported} of ${summary.rows} rows in ${summary.seconds} s`);
          if (summary.rejected > 0) {
            console.log(`rejected ${summary.rejected} rows, written to ${summary.rejectsFile}:`);
            for (const issue of summary.issues.slice(0, 20)) console.log(`  ${formatIssue(issue)}`);
          }
        }
      }),
    );
}

/**
 * This process's peak resident memory, MiB: the kernel's high-water mark of its own memory (VmHWM)
 * where there is one. getrusage's maxRSS is no measure here on Linux: it keeps the peak from before
 * exec, that of the parent the process was forked from (a test runner of 290 MB, for one).
 */
export async function peakRssMb(): Promise<number> {
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const kb = /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
  return Math.round((kb === undefined ? process.resourceUsage().maxRSS : Number(kb)) / 1024);
}
