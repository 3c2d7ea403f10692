import { expect } from 'chai';
import { existsSync, promises as fsp, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sh } from './lab.js';

// npm run package, run by the test: the .deb is built, taken apart and checked with Debian's tools.
const REPO = new URL('../../../', import.meta.url).pathname;
const VERSION = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

describe('integration: the Debian package (npm run package, dpkg-deb, lintian, man, completion)', function () {
  this.timeout(300_000);
  let dir = '';
  let deb = '';
  let tree = '';
  before(async function () {
    for (const tool of [
      '/usr/bin/dpkg-deb',
      '/usr/bin/lintian',
      '/usr/bin/mandoc',
      '/usr/bin/groff',
      '/usr/bin/zsh',
      '/usr/share/bash-completion/bash_completion',
    ])
      if (!existsSync(tool)) throw new Error(`these tests need ${tool} (test/install-deps.sh installs it)`);
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'oob-pkg-'));
    const r = await sh([process.execPath, path.join(REPO, 'scripts/package.mjs'), '--out', dir]);
    if (r.code !== 0) throw new Error(`scripts/package.mjs failed: ${r.stderr}`);
    deb = r.stdout.trim().split('\n').pop()!;
    tree = path.join(dir, 'tree');
    const x = await sh(['dpkg-deb', '-x', deb, tree]);
    if (x.code !== 0) throw new Error(x.stderr);
  });
  after(async () => {
    if (dir) await fsp.rm(dir, { recursive: true, force: true });
  });

  it('is oob_VERSION_all.deb with the control fields, depending on a Node that is installed here', async () => {
    expect(path.basename(deb)).to.equal(`oob_${VERSION}_all.deb`);
    const field = async (f: string) => (await sh(['dpkg-deb', '-f', deb, f])).stdout.trim();
    expect(await field('Package')).to.equal('oob');
    expect(await field('Version')).to.equal(VERSION);
    expect(await field('Architecture')).to.equal('all');
    const depends = await field('Depends');
    expect(depends).to.match(/^nodejs \(>= 20\), iproute2, util-linux \(>= [\d.]+\)$/);
    // the dependency holds on this machine: dpkg compares the installed nodejs with it
    const installed = (await sh(['dpkg-query', '-W', '-f', '${Version}', 'nodejs'])).stdout.trim();
    expect((await sh(['dpkg', '--compare-versions', installed, 'ge', '20'])).code, `nodejs ${installed}`).to.equal(0);
    const info = (await sh(['dpkg-deb', '-I', deb])).stdout;
    expect(info)
      .to.match(/\bpostinst\b/)
      .and.match(/\bprerm\b/)
      .and.match(/\bpostrm\b/)
      .and.match(/\bmd5sums\b/);
    expect(info, 'no conffiles: nothing under /etc').not.to.match(/\bconffiles\b/);
  });

  it("holds the program, the unit, tmpfiles.d, man pages, completions and the example, all root's", async () => {
    const listing = (await sh(['dpkg-deb', '-c', deb])).stdout.trim().split('\n');
    const names = listing.map((l) => l.split(/\s+/).slice(5).join(' ').replace(/^\.\//, '/'));
    expect(names).to.include.members([
      '/usr/bin/oob -> ../lib/oob/oob.cjs',
      '/usr/lib/oob/oob.cjs',
      '/usr/lib/oob/oob.bundle.cjs',
      '/usr/lib/oob/oob.bundle.cjs.map',
      '/usr/lib/systemd/system/oob@.service',
      '/usr/lib/tmpfiles.d/oob.conf',
      '/usr/share/man/man8/oob.8.gz',
      '/usr/share/man/man5/oob.ini.5.gz',
      '/usr/share/bash-completion/completions/oob',
      '/usr/share/zsh/vendor-completions/_oob',
      '/usr/share/doc/oob/examples/mgmt.ini',
      '/usr/share/doc/oob/copyright',
      '/usr/share/doc/oob/changelog.gz',
    ]);
    expect(names.filter((n) => n.startsWith('/etc'))).to.deep.equal([]);
    expect(listing.filter((l) => !l.includes(' root/root '))).to.deep.equal([]);
    const unit = await fsp.readFile(path.join(tree, 'usr/lib/systemd/system/oob@.service'), 'utf8');
    expect(unit).to.match(/^ExecStart=\/usr\/bin\/oob run %i$/m);
    expect(unit).not.to.match(/@[A-Z_]+@/);
    expect(await fsp.readFile(path.join(tree, 'usr/lib/tmpfiles.d/oob.conf'), 'utf8')).to.match(
      /^d \/run\/oob 0755 root root -$/m,
    );
  });

  it('lintian finds no error and no warning (overrides carry their reasons)', async () => {
    const r = await sh(['lintian', '--pedantic', '--fail-on', 'error,warning', deb]);
    expect(r.stdout.split('\n').filter((l) => /^[EW]:/.test(l))).to.deep.equal([]);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    const overrides = await fsp.readFile(path.join(tree, 'usr/share/lintian/overrides/oob'), 'utf8');
    for (const line of overrides.split('\n').filter((l) => l.startsWith('oob:'))) {
      const before = overrides.slice(0, overrides.indexOf(line)).trimEnd().split('\n').pop()!;
      expect(before, `the override "${line}" has no reason above it`).to.match(/^# /);
    }
  });

  it('its oob prints its version from any working directory', async () => {
    const r = await sh(['/usr/bin/env', '-C', '/', path.join(tree, 'usr/lib/oob/oob.cjs'), '--version'], {
      env: { ...process.env, OOB_CODE_CACHE_DIR: path.join(dir, 'cache') },
    });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout.trim()).to.equal(VERSION);
  });

  it('man pages: mandoc -T lint and groff -w w find nothing; oob(8) lists every command of --help', async () => {
    for (const page of ['usr/share/man/man8/oob.8.gz', 'usr/share/man/man5/oob.ini.5.gz']) {
      const f = path.join(tree, page);
      const lint = await sh(['mandoc', '-T', 'lint', '-W', 'warning', f]);
      expect(lint.stdout + lint.stderr, page).to.equal('');
      const groff = await sh(['sh', '-c', `zcat "$1" | groff -w w -mandoc -Tutf8 >/dev/null`, 'sh', f]);
      expect([groff.code, groff.stderr], page).to.deep.equal([0, '']);
    }
    const page = (
      await sh(['sh', '-c', 'MANWIDTH=200 man -l "$1" 2>&1', 'sh', path.join(tree, 'usr/share/man/man8/oob.8.gz')])
    ).stdout;
    const help = (
      await sh([path.join(tree, 'usr/lib/oob/oob.cjs'), '--help'], {
        env: { ...process.env, OOB_CODE_CACHE_DIR: path.join(dir, 'cache') },
      })
    ).stdout;
    const commands = [...help.matchAll(/^ {2}oob (\w+)/gm)].map((m) => m[1]!);
    expect(commands.length).to.be.greaterThan(10);
    for (const c of commands) expect(page, `oob(8) lacks ${c}`).to.match(new RegExp(`^ {5}${c}\\b`, 'm'));
    const ini = (
      await sh(['sh', '-c', 'MANWIDTH=200 man -l "$1" 2>&1', 'sh', path.join(tree, 'usr/share/man/man5/oob.ini.5.gz')])
    ).stdout;
    const parse = await fsp.readFile(path.join(REPO, 'src/profile/parse.ts'), 'utf8');
    const keys = [
      ...parse.slice(parse.indexOf('const KEYS'), parse.indexOf('} as const')).matchAll(/'([a-z-]+)'/g),
    ].map((m) => m[1]!);
    expect(keys).to.include.members(['nic', 'exec', 'ready']);
    for (const k of keys)
      expect(ini, `oob.ini(5) does not describe ${k}`).to.match(new RegExp(`^ {5}${k}\\b|, ${k}$`, 'm'));
  });

  it('bash completion: complete -p oob, commands, flags, and profile names from the profile directory', async () => {
    const profiles = path.join(dir, 'profiles');
    await fsp.mkdir(profiles, { recursive: true });
    await fsp.writeFile(path.join(profiles, 'mgmt.ini'), '');
    await fsp.writeFile(path.join(profiles, 'backup.ini'), '');
    const script = `source /usr/share/bash-completion/bash_completion; source "$1"; complete -p oob
      words() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=\${#COMP_LINE}; COMPREPLY=(); _oob; printf '%s\\n' "\${COMPREPLY[*]}"; }
      words oob st; words oob up m; words oob enable --n; OOB_PROFILE_DIR=/nonexistent words oob up m`;
    const r = await sh(['bash', '-c', script, 'bash', path.join(tree, 'usr/share/bash-completion/completions/oob')], {
      env: { ...process.env, OOB_PROFILE_DIR: profiles },
    });
    expect(r.stderr).to.equal('');
    expect(r.stdout.split('\n')).to.deep.equal([
      'complete -F _oob oob',
      'start status stop',
      'mgmt',
      '--nic --no-services --now --no-now',
      '',
      '',
    ]);
  });

  it('zsh completion: valid zsh, with every command and the profile names', async () => {
    const f = path.join(tree, 'usr/share/zsh/vendor-completions/_oob');
    const n = await sh(['zsh', '-n', f]);
    expect([n.code, n.stderr]).to.deep.equal([0, '']);
    const text = await fsp.readFile(f, 'utf8');
    expect(text.split('\n')[0]).to.equal('#compdef oob');
    for (const c of ['status', 'enable', 'disable', 'up', 'down', 'exec'])
      expect(text).to.match(new RegExp(`^ {4}'${c}:`, 'm'));
    const profiles = path.join(dir, 'zprofiles');
    await fsp.mkdir(profiles, { recursive: true });
    await fsp.writeFile(path.join(profiles, 'mgmt.ini'), '');
    // the profile lookup, run alone: _describe replaced by a printer
    const r = await sh(
      [
        'zsh',
        '-c',
        `source <(sed -n '/^_oob_profiles()/,/^}/p' "$1"); _describe() { print -l -- \${(P)4}; }; _oob_profiles`,
        'zsh',
        f,
      ],
      { env: { ...process.env, OOB_PROFILE_DIR: profiles } },
    );
    expect(r.stdout.trim()).to.equal('mgmt');
  });
});
