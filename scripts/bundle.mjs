// npm run build:bundle: oob as one CommonJS file, DIR/oob.bundle.cjs (+ its .map for stack traces
// under OOB_DEBUG), and the command that loads it with a V8 code cache, DIR/oob.cjs (scripts/loader.cjs).
// Node then reads one file instead of ~60 modules through the ESM loader. DIR is dist/ unless given.
// tsc stays the type checker and builds what the tests import (build/); this only bundles.
import { build } from 'esbuild';
import { chmodSync, copyFileSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
// OOB_VERSION: the version to bundle, when it is not package.json's (npm run package --version)
const version = process.env.OOB_VERSION || pkg.version;
const dir = path.resolve(process.argv[2] ?? `${root}dist`);
const out = path.join(dir, 'oob.bundle.cjs');

// `createRequire(import.meta.url)(X)` loads a CommonJS package fast from tsc's ESM output; in the
// bundle it must become a plain require(X), which esbuild then bundles.
const plainRequire = {
  name: 'plain-require',
  setup(b) {
    b.onLoad({ filter: /\/src\/.*\.ts$/ }, (args) => {
      // the loader is the command: no shebang inside the bundle, which it compiles as a function body
      const text = readFileSync(args.path, 'utf8').replace(/^#!.*\n/, '');
      // the loader runs the bundle through vm.Script, where import() has no module loader: what
      // esbuild bundles becomes a require, but Node's own modules stay external and would fail
      const dynamic = /(?<!typeof\s)\bimport\(\s*['"](node:[^'"]+)['"]/.exec(text);
      if (dynamic)
        throw new Error(
          `${path.relative(root, args.path)}: import('${dynamic[1]}') cannot run in the bundle: import it statically`,
        );
      return { contents: text.replaceAll('createRequire(import.meta.url)(', 'require('), loader: 'ts' };
    });
  },
};

// yargs' factory guesses a version at construction (.version() without one): it walks up from the
// main module's folder reading every directory for a package.json (/usr/lib, /usr, / for the
// package, which has none) and builds an AssertionError when none is found, all thrown away since
// cli.ts gives .version() oob's own. The bundle skips that guess; what --version prints is unchanged.
const YARGS_GUESS = 'i.help(),i.version(),i}';
const noVersionGuess = {
  name: 'no-version-guess',
  setup(b) {
    b.onLoad({ filter: /\/yargs\/build\/index\.cjs$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (text.split(YARGS_GUESS).length !== 2)
        throw new Error(`${args.path}: "${YARGS_GUESS}" is not there once: see no-version-guess in scripts/bundle.mjs`);
      return { contents: text.replace(YARGS_GUESS, 'i.help(),i}'), loader: 'js' };
    });
  },
};

const r = await build({
  entryPoints: [`${root}src/cli.ts`],
  outfile: out,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: process.env.OOB_BUNDLE_MINIFY !== '0',
  keepNames: false,
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'linked',
  // the bundle's own file stands in for import.meta.url (sys/self.ts asks where oob is)
  banner: { js: 'var __oob_import_meta_url = require("url").pathToFileURL(__filename).href;' },
  define: { 'import.meta.url': '__oob_import_meta_url', OOB_BUNDLED_VERSION: JSON.stringify(version) },
  plugins: [plainRequire, noVersionGuess],
  logLevel: 'warning',
  metafile: true,
});
copyFileSync(`${root}scripts/loader.cjs`, path.join(dir, 'oob.cjs'));
chmodSync(path.join(dir, 'oob.cjs'), 0o755);
const bytes = Object.values(r.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`${out}: ${Object.keys(r.metafile.inputs).length} modules, ${(bytes / 1024).toFixed(0)} KiB with its map`);
