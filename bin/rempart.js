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
await import('../src/cli/rempart.ts');
