// Asked by binding.gyp at configure time: is a system library there, and with which flags?
// Prints nothing for a library pkg-config cannot find, so the build goes on without that backend.
'use strict';
const { execFileSync } = require('child_process');
const [what, lib] = process.argv.slice(2);
function pkg(args) {
  try {
    return execFileSync('pkg-config', [...args, lib], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}
const present = pkg(['--exists']) !== null;
if (what === 'have') process.stdout.write(present ? '1' : '0');
else if (!present) process.stdout.write('');
else if (what === 'cflags') process.stdout.write(pkg(['--cflags']) || '');
else if (what === 'libs') process.stdout.write(pkg(['--libs']) || '');
