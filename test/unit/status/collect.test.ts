// What status collects from files: the profiles of one directory share its directory checks (one
// look per directory), and a directory others can write is still refused for every profile below it.
import { expect } from 'chai';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { collect } from '../../../src/status/collect.js';
import type { Io } from '../../../src/sys/io.js';
import type { RunOptions } from '../../../src/sys/run.js';

const GOOD = '[interface]\nnic = ens19\naddress = 10.20.30.1/24\n';

describe('status/collect: the profiles of one directory', function () {
  let top: string;
  let io: Io;
  const ran: string[][] = [];
  before(function () {
    if (process.geteuid?.() !== 0) this.skip();
  });
  beforeEach(async () => {
    top = await fsp.mkdtemp(path.join(os.tmpdir(), 'oob-collect-'));
    for (const d of ['profiles', 'run', 'state', 'netns']) await fsp.mkdir(path.join(top, d), { mode: 0o700 });
    ran.length = 0;
    io = {
      // the host's links, routes and rules: none (no namespace is there, so no other command runs)
      run: async (argv: readonly string[], _opts: RunOptions = {}) => {
        ran.push([...argv]);
        return { code: 0, stdout: '[]\n[]\n[]\n', stderr: '' };
      },
      log: { info: () => {}, warn: () => {} },
      paths: {
        profileDir: path.join(top, 'profiles'),
        runtimeDir: path.join(top, 'run'),
        stateDir: path.join(top, 'state'),
        netnsEtcDir: path.join(top, 'etc'),
        netnsRunDir: path.join(top, 'netns'),
      },
      hostPid: process.pid,
      env: {},
    };
    for (const n of ['a', 'b', 'c']) await fsp.writeFile(path.join(top, 'profiles', `${n}.ini`), GOOD, { mode: 0o600 });
  });
  afterEach(async () => {
    await fsp.rm(top, { recursive: true, force: true });
  });

  it('every profile loads from a directory only root can change', async () => {
    const raw = await collect(io, undefined);
    expect(raw.profiles.map((p) => [p.name, p.profileError, p.profile?.name])).to.deep.equal([
      ['a', undefined, 'a'],
      ['b', undefined, 'b'],
      ['c', undefined, 'c'],
    ]);
    expect(ran).to.deep.equal([['ip', '-j', '-d', '-batch', '-']]);
  });

  it('a directory above them that everyone can write is refused for each of them, not only the first', async () => {
    await fsp.chmod(top, 0o777);
    const raw = await collect(io, undefined);
    expect(raw.profiles.map((p) => p.name)).to.deep.equal(['a', 'b', 'c']);
    for (const p of raw.profiles) {
      expect(p.profile, p.name).to.equal(undefined);
      expect(p.profileError, p.name).to.match(
        new RegExp(`^${top}: writable by everyone \\(mode 777\\): .*fix with: chmod go-w ${top}$`),
      );
    }
  });
});
