#!/usr/bin/env node
// The `rempart` command: Node.js 24 runs the TypeScript sources directly (type stripping), so this
// only checks the version, then hands over to src/cli/rempart.ts.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `rempart needs Node.js 24 or later (this is ${process.version}). Run it through npm (npm start, npx rempart), which uses the Node.js 24 the project installs.\n`,
  );
  process.exit(1);
}

// `rempart import` streams a file of any length through one transaction, and its peak memory must
// stay bounded (issue 10 §4: 1,000,000 rows under 300 MB; docs/IMPORT.md, "Memory"). Measured, the
// peak came from the engine's defaults, not from the rows, so the command restarts itself once
// (execve: same process id, same standard streams) with:
// - V8 semi-spaces of 4 MB (young generation) and an old generation capped at 64 MB (the live
//   heap is about 30 MB, whatever the file's length): by default V8 let 128 MB of young and over
//   100 MB of old garbage pile up first;
// - PGlite's WebAssembly kept on the baseline compiler (Liftoff): optimising one of its largest
//   functions took about 600 MB for half a second, a spike that alone broke the bound; the import
//   runs slower for it (docs/BENCHMARKS.md, "Import").
const IMPORT_FLAGS = [
  '--max-semi-space-size=4',
  '--max-old-space-size=64',
  '--no-wasm-dynamic-tiering',
  '--no-wasm-tier-up',
];
if (
  process.argv[2] === 'import' &&
  typeof process.execve === 'function' &&
  !process.execArgv.includes(IMPORT_FLAGS[0])
) {
  process.execve(
    process.execPath,
    [process.execPath, ...process.execArgv, ...IMPORT_FLAGS, ...process.argv.slice(1)],
    // glibc's allocator: blocks over 128 KiB mapped apart and freed memory trimmed past 1 MiB, so
    // the native buffers of past batches are given back (measured: about 17 MB less at the peak).
    { MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_TRIM_THRESHOLD_: '1048576', ...process.env },
  );
}
// The import loads only its own modules (src/cli/rempart-import.ts): the rest of the command adds
// about 65 MB it does not use.
if (process.argv[2] === 'import') await import('../src/cli/rempart-import.ts');
else await import('../src/cli/rempart.ts');
