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

// Two start-up costs of yargs that oob does not use, cut in the bundle only (each edit is checked to
// apply exactly once, so a new yargs fails the build instead of changing silently):
// - its factory guesses a version at construction (.version() without one): it walks up from the
//   main module's folder reading every directory for a package.json (/usr/lib, /usr, / for the
//   package, which has none) and builds an AssertionError when none is found, all thrown away since
//   cli.ts gives .version() oob's own. What --version and --help print is unchanged.
// - it loads node:assert for two invariant checks, which loads Node's error colouring, which makes
//   process.stderr at start-up: the same checks (Object.is, as assert's), with node:assert loaded
//   only to throw its own error if one ever fails.
const YARGS_EDITS = [
  ['i.help(),i.version(),i}', 'i.help(),i}'],
  [
    'var t=require("assert");',
    'var t={notStrictEqual(a,b,m){if(Object.is(a,b))require("assert").notStrictEqual(a,b,m)},' +
      'strictEqual(a,b,m){if(!Object.is(a,b))require("assert").strictEqual(a,b,m)}};',
  ],
];
const leanYargs = {
  name: 'lean-yargs',
  setup(b) {
    b.onLoad({ filter: /\/yargs\/build\/index\.cjs$/ }, (args) => {
      let text = readFileSync(args.path, 'utf8');
      for (const [from, to] of YARGS_EDITS) {
        if (text.split(from).length !== 2)
          throw new Error(`${args.path}: "${from}" is not there once: see leanYargs in scripts/bundle.mjs`);
        text = text.replace(from, to);
      }
      return { contents: text, loader: 'js' };
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
  plugins: [plainRequire, leanYargs],
  logLevel: 'warning',
  metafile: true,
});
copyFileSync(`${root}scripts/loader.cjs`, path.join(dir, 'oob.cjs'));
chmodSync(path.join(dir, 'oob.cjs'), 0o755);
const bytes = Object.values(r.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`${out}: ${Object.keys(r.metafile.inputs).length} modules, ${(bytes / 1024).toFixed(0)} KiB with its map`);
