// What every browser test of the console takes from its command line (set by tests/CMakeLists.txt):
//   --tessera BINARY  --modules CONSOLE_NODE_MODULES  --out SCREENSHOT_DIR  [--chromium PATH]
// and playwright-core's chromium, loaded from the console's node_modules (no browser download:
// Debian's chromium is driven).
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

export function browserTestArgs(argv = process.argv.slice(2)) {
  const args = Object.fromEntries(
    argv.reduce((pairs, arg, index, all) => (arg.startsWith('--') ? [...pairs, [arg.slice(2), all[index + 1]]] : pairs), []),
  );
  const modules = resolve(args.modules || 'build/console-web/node_modules');
  const outDir = resolve(args.out || 'build/console-screenshots');
  mkdirSync(outDir, { recursive: true });
  const require = createRequire(join(modules, 'noop.js'));
  return {
    tesseraBinary: resolve(args.tessera || 'build/tools/tessera'),
    outDir,
    chromiumPath: args.chromium || '/usr/bin/chromium',
    chromium: require('playwright-core').chromium,
  };
}
