#!/usr/bin/env node
'use strict';
// Thin launcher: the CLI is TypeScript compiled to dist/ by `npm ci` / `npm run build`.
const path = require('path');
const fs = require('fs');
const cli = path.join(__dirname, '..', 'dist', 'apps', 'cli.js');
if (!fs.existsSync(cli)) {
  console.error('tickpath: dist/apps/cli.js is missing. Build first: npm run build (or npm ci).');
  process.exit(1);
}

// Every command releases what it created before it returns. Should one ever leave something
// behind (a server, a worker, a timer), the process would outlive its command: this guard says
// what was left and exits instead of hanging. Tests assert it never fires.
const kLingerMs = 5000;
function exitIfLingering() {
  setTimeout(() => {
    const left = process.getActiveResourcesInfo().filter((r) => r !== 'Timeout');
    console.error(`tickpath: the command finished but left resources running (${left.join(', ') || 'unknown'}); exiting [ERR_LINGERING]`);
    process.exit(process.exitCode || 1);
  }, kLingerMs).unref();
}

require(cli).main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; exitIfLingering(); },
  (err) => {
    const code = err && err.code ? ` [${err.code}]` : '';
    console.error(`tickpath: ${err && err.message ? err.message : err}${code}`);
    process.exitCode = 1;
    exitIfLingering();
  });
