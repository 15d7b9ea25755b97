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
require(cli).main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => {
    const code = err && err.code ? ` [${err.code}]` : '';
    console.error(`tickpath: ${err && err.message ? err.message : err}${code}`);
    process.exitCode = 1;
  });
