// Where the running oob is, and which version it is: the same answers whether oob runs as tsc's
// output (dist/cli.js, build/src/cli.js in the tests) or as the one bundled file (dist/oob.bundle.cjs,
// /usr/lib/oob/oob.bundle.cjs, started by oob.cjs next to it), where the bundler defines
// import.meta.url as the bundle's own file.
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Set by the bundler (scripts/bundle.mjs) to package.json's version; absent in tsc's output. */
declare const OOB_BUNDLED_VERSION: string | undefined;

const here = () => fileURLToPath(import.meta.url);

/** True inside the bundle: this module is then the bundle file itself. */
export const bundled = () => typeof OOB_BUNDLED_VERSION === 'string';

/** The file node runs as oob: the bundle's loader (oob.cjs next to it), or tsc's cli.js. */
export function selfCli(): string {
  return bundled() ? path.join(path.dirname(here()), 'oob.cjs') : path.join(path.dirname(here()), '..', 'cli.js');
}

/** The source tree or package this oob came from: the nearest folder up holding units/oob@.service. */
export function packageDir(): string | undefined {
  let dir = path.dirname(here());
  for (;;) {
    if (existsSync(path.join(dir, 'units', 'oob@.service'))) return dir;
    if (dir === '/') return undefined;
    dir = path.dirname(dir);
  }
}

/** oob's own version, whatever the working directory. */
export function version(): string {
  if (typeof OOB_BUNDLED_VERSION === 'string') return OOB_BUNDLED_VERSION;
  let dir = path.dirname(here());
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'oob' && pkg.version) return pkg.version;
    } catch {
      // no package.json here: look further up
    }
    if (dir === '/') return 'unknown';
    dir = path.dirname(dir);
  }
}
