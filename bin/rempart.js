#!/usr/bin/env node
// The `rempart` command: loads the TypeScript sources through tsx, then hands over to src/cli/rempart.ts.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/rempart.ts');
