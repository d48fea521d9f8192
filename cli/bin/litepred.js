#!/usr/bin/env node
// Committed launcher: npm links a workspace bin only if its target exists at install time, and the
// compiled CLI does not exist until `tsc -b` has run (npm's prepare step does it).
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('litepred: the CLI is not built yet. Run `npm run build` (or `npm ci`, which builds it) in the repository root.');
  process.exit(1);
}
await import(main.href);
