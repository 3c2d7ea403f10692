// npm run package: oob_VERSION_all.deb with Debian's own dpkg-deb (no fpm), from the tsc build
// (dist/, for the docs generator and the unit renderer) and a fresh bundle.
//   node scripts/package.mjs [--version V] [--out DIR]    (default: package.json's version, dist/)
// Layout: /usr/bin/oob -> /usr/lib/oob/oob.cjs (the loader) and oob.bundle.cjs (+ map), the unit
// template in /usr/lib/systemd/system, tmpfiles.d, man pages, bash and zsh completions, the example
// profile under /usr/share/doc/oob/examples. Nothing under /etc: no conffiles; the profiles and
// what `oob enable` writes are the admin's files (postrm purge removes only what enable marked).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  lstatSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const version = arg('--version') ?? pkg.version;
const outDir = path.resolve(arg('--out') ?? path.join(root, 'dist'));
if (!/^[0-9][A-Za-z0-9.+~-]*$/.test(version)) throw new Error(`"${version}" is not a Debian version`);
const run = (argv, env = {}) =>
  execFileSync(argv[0], argv.slice(1), {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });

const { renderTemplate, GENERATED, PACKAGED_EXEC } = await import(path.join(root, 'dist/systemd/render.js'));
const layout = await import(path.join(root, 'dist/state/layout.js'));

const stage = mkdtempSync(path.join(tmpdir(), 'oob-deb-'));
try {
  const at = (p) => path.join(stage, p);
  const put = (p, content, mode = 0o644) => {
    mkdirSync(path.dirname(at(p)), { recursive: true, mode: 0o755 });
    writeFileSync(at(p), content);
    chmodSync(at(p), mode);
  };
  const gz = (text) => gzipSync(Buffer.from(text), { level: 9 }); // gzip -9n: no name, no time

  // the program: the loader and the bundle, built for this version
  run([process.execPath, path.join(root, 'scripts/bundle.mjs'), at('usr/lib/oob')], { OOB_VERSION: version });
  chmodSync(at('usr/lib/oob/oob.bundle.cjs'), 0o644);
  chmodSync(at('usr/lib/oob/oob.bundle.cjs.map'), 0o644);
  mkdirSync(at('usr/bin'), { recursive: true });
  symlinkSync('../lib/oob/oob.cjs', at(PACKAGED_EXEC));

  // systemd: the template as oob enable would render it, naming /usr/bin/oob; tmpfiles.d
  put(
    layout.packagedTemplatePath,
    renderTemplate(readFileSync(path.join(root, 'units/oob@.service'), 'utf8'), { exec: PACKAGED_EXEC }),
  );
  put('usr/lib/tmpfiles.d/oob.conf', readFileSync(path.join(root, 'debian/tmpfiles.conf')));

  // documentation: man pages and completions from the command definitions, the example profile
  const docs = mkdtempSync(path.join(tmpdir(), 'oob-docs-'));
  try {
    run([process.execPath, path.join(root, 'scripts/docs.mjs'), docs]);
    put('usr/share/man/man8/oob.8.gz', gz(readFileSync(path.join(docs, 'man8/oob.8'))));
    put('usr/share/man/man5/oob.ini.5.gz', gz(readFileSync(path.join(docs, 'man5/oob.ini.5'))));
    put('usr/share/bash-completion/completions/oob', readFileSync(path.join(docs, 'bash/oob')));
    put('usr/share/zsh/vendor-completions/_oob', readFileSync(path.join(docs, 'zsh/_oob')));
  } finally {
    rmSync(docs, { recursive: true, force: true });
  }
  put('usr/share/doc/oob/examples/mgmt.ini', readFileSync(path.join(root, 'profiles/mgmt.ini')));
  put('usr/share/doc/oob/copyright', copyright());
  put('usr/share/lintian/overrides/oob', readFileSync(path.join(root, 'debian/lintian-overrides')));
  const date = run([
    'date',
    '-R',
    '-u',
    ...(process.env.SOURCE_DATE_EPOCH ? ['-d', `@${process.env.SOURCE_DATE_EPOCH}`] : []),
  ]).trim();
  put(
    'usr/share/doc/oob/changelog.gz',
    gz(
      `oob (${version}) unstable; urgency=medium\n\n  * oob ${version}: see the README of the source for what changed.\n\n -- oob developers <oob@users.noreply.github.com>  ${date}\n`,
    ),
  );

  // DEBIAN/: control, md5sums, maintainer scripts (postrm spelled from state/layout.ts's paths)
  const files = walk(stage).filter((f) => !lstatSync(f).isSymbolicLink() && statSync(f).isFile());
  const size = Math.ceil(files.reduce((n, f) => n + statSync(f).size, 0) / 1024);
  put(
    'DEBIAN/control',
    readFileSync(path.join(root, 'debian/control.in'), 'utf8')
      .replace('@VERSION@', version)
      .replace('@SIZE@', String(size)),
  );
  put(
    'DEBIAN/md5sums',
    files
      .map((f) => `${createHash('md5').update(readFileSync(f)).digest('hex')}  ${path.relative(stage, f)}\n`)
      .sort()
      .join(''),
  );
  put('DEBIAN/postinst', readFileSync(path.join(root, 'debian/postinst')), 0o755);
  put('DEBIAN/prerm', readFileSync(path.join(root, 'debian/prerm')), 0o755);
  const glob = (p) => p.replaceAll('%', '*');
  put(
    'DEBIAN/postrm',
    readFileSync(path.join(root, 'debian/postrm.in'), 'utf8')
      .replaceAll('@GENERATED@', GENERATED)
      .replaceAll('@WANTS_LINKS@', `/etc/systemd/system/*.wants/${layout.unitName('*')}`)
      .replaceAll(
        '@GENERATED_FILES@',
        [layout.dropInPath('%'), layout.nmRulePath('%'), layout.networkdRulePath('%')].map(glob).join(' '),
      )
      .replaceAll('@DROPIN_DIRS@', glob(path.dirname(layout.dropInPath('%'))))
      .replaceAll('@TEMPLATE_COPY@', layout.templatePath),
    0o755,
  );
  for (const d of [stage, ...walk(stage, true)]) chmodSync(d, 0o755);

  mkdirSync(outDir, { recursive: true });
  const deb = path.join(outDir, `oob_${version}_all.deb`);
  run(['dpkg-deb', '--root-owner-group', '-Zxz', '--build', stage, deb]);
  console.log(deb);
} finally {
  rmSync(stage, { recursive: true, force: true });
}

function walk(dir, dirs = false) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? [...(dirs ? [p] : []), ...walk(p, dirs)] : dirs ? [] : [p];
  });
}

/** debian/copyright, machine-readable: oob's own licence, and the bundled packages' licences. */
function copyright() {
  const meta = JSON.parse(
    run([
      process.execPath,
      '-e',
      `
    const { buildSync } = require(${JSON.stringify(path.join(root, 'node_modules/esbuild'))});
    const r = buildSync({ entryPoints: [${JSON.stringify(path.join(root, 'src/cli.ts'))}], bundle: true, platform: 'node', format: 'esm', write: false, metafile: true, logLevel: 'silent' });
    process.stdout.write(JSON.stringify(Object.keys(r.metafile.inputs)));`,
    ]),
  );
  const bundled = [
    ...new Set(meta.map((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f)?.[1]).filter(Boolean)),
  ].sort();
  const info = bundled.map((name) => {
    const p = JSON.parse(readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8'));
    const author = typeof p.author === 'string' ? p.author : p.author?.name;
    return { name, license: p.license ?? 'UNKNOWN', author: author ?? `the ${name} authors` };
  });
  const licences = [...new Set(['MIT', ...info.map((i) => i.license)])];
  const text = {
    MIT: ` Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files (the "Software"), to deal in the Software without restriction, including without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the following conditions:\n .\n The above copyright notice and this permission notice shall be included in all copies or substantial portions of the Software.\n .\n THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.`,
    'Apache-2.0': ` On Debian systems, the full text of the Apache License, Version 2.0 is in\n /usr/share/common-licenses/Apache-2.0.`,
    ISC: ` Permission to use, copy, modify, and/or distribute this software for any purpose with or without fee is hereby granted, provided that the above copyright notice and this permission notice appear in all copies.\n .\n THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.`,
  };
  const unknown = licences.filter((l) => !text[l]);
  if (unknown.length)
    throw new Error(
      `bundled packages under licences this script has no text for: ${unknown.join(', ')}: add it to scripts/package.mjs`,
    );
  return [
    'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: oob\nComment: usr/lib/oob/oob.bundle.cjs also holds these npm packages, bundled by esbuild:\n ' +
      info.map((i) => `${i.name} (${i.license})`).join(', ') +
      '\n',
    `Files: *\nCopyright: ${new Date().getUTCFullYear()} oob developers\nLicense: ${pkg.license}\n`,
    `Files: usr/lib/oob/oob.bundle.cjs usr/lib/oob/oob.bundle.cjs.map\nCopyright: ${[...new Set(info.map((i) => i.author))].join(',\n           ')}\nLicense: ${[...new Set(info.map((i) => i.license))].join(' and ')}\n`,
    ...licences.map((l) => `License: ${l}\n${text[l]}\n`),
  ].join('\n');
}
