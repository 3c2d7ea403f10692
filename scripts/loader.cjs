#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node
// oob's command: loads the one bundled file next to it (oob.bundle.cjs) with a V8 code cache, which
// spares most of its compile time at every start (npm run bench measures it). The cache is keyed by
// the bundle's identity and the Node version; a missing, foreign or rejected cache is ignored and
// rewritten when the directory is writable, silently: oob runs the same without it.
// (The shebang drops NODE_EXTRA_CA_CERTS: oob opens no TLS connection.)
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { createRequire } = require('node:module');

const file = path.join(__dirname, 'oob.bundle.cjs');
if (process.env.OOB_DEBUG) {
  // stack traces through the source map (oob.bundle.cjs.map), to src/*.ts: a plain require, no cache
  process.setSourceMapsEnabled(true);
  require(file);
  return;
}
const st = fs.statSync(file);
// the package's cache lives in /var/cache/oob (the FHS keeps /usr read-only); a checkout's, in dist/
const dir =
  process.env.OOB_CODE_CACHE_DIR || (file.startsWith('/usr/') ? '/var/cache/oob' : path.join(__dirname, '.cache'));
const cacheFile = path.join(
  dir,
  `oob-${process.version}-${process.arch}-${st.ino}-${st.size}-${Math.trunc(st.mtimeMs)}.v8`,
);
let cached;
try {
  // a cache is code: only one written by root or by this user is used
  const fd = fs.openSync(cacheFile, 'r');
  const cst = fs.fstatSync(fd);
  if (cst.uid === 0 || cst.uid === process.getuid()) cached = fs.readFileSync(fd);
  fs.closeSync(fd);
} catch {
  // no cache yet
}
const source = fs.readFileSync(file, 'utf8');
const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
  filename: file,
  cachedData: cached,
});
if (!cached || script.cachedDataRejected) {
  // written at exit, so that it holds the functions this run compiled too
  process.once('exit', () => {
    try {
      const tmp = `${cacheFile}.${process.pid}`;
      fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
      fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o644 });
      fs.renameSync(tmp, cacheFile);
    } catch {
      // a read-only or foreign directory: run without a cache
    }
  });
}
const mod = { exports: {}, filename: file, id: file, loaded: false };
script.runInThisContext().call(mod.exports, mod.exports, createRequire(file), mod, file, __dirname);
