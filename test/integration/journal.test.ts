import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  fstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  promises as fsp,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, Lab, needSshd, waitFor } from './lab.js';

// oob's stderr handed over as systemd does for a unit (a stream named by $JOURNAL_STREAM): lines
// carry <N> priorities there, and only there.
describe('integration: journald priority prefixes', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'oob-journal-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function stderrOf(args: string[], journal: 'this' | 'other' | 'none'): string {
    const file = join(dir, 'stderr');
    const fd = openSync(file, 'w');
    const other = openSync(join(dir, 'other'), 'w');
    try {
      const st = fstatSync(journal === 'other' ? other : fd, { bigint: true });
      const env: NodeJS.ProcessEnv = { ...process.env, OOB_PROFILE_DIR: join(dir, 'profiles') };
      if (journal === 'none') delete env.JOURNAL_STREAM;
      else env.JOURNAL_STREAM = `${st.dev}:${st.ino}`;
      spawnSync(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', fd], env });
    } finally {
      closeSync(fd);
      closeSync(other);
    }
    return readFileSync(file, 'utf8');
  }

  it('an error is <3> with its detail lines when stderr is the journal', () => {
    expect(stderrOf(['bogus'], 'this')).to.match(/^<3>oob: Unknown argument: bogus/);
    mkdirSync(join(dir, 'profiles'), { mode: 0o700 });
    writeFileSync(
      join(dir, 'profiles', 'bad.ini'),
      '[interface]\nnic = x\naddress = 10.0.0.1/24\ngateway = 192.168.1.1\nmtu = many\n',
      { mode: 0o600 },
    );
    const lines = stderrOf(['plan', 'bad'], 'this').split('\n').filter(Boolean);
    expect(lines.length).to.be.greaterThan(1);
    expect(lines.filter((l) => !l.startsWith('<3>'))).to.deep.equal([]);
    expect(lines[0]).to.match(/^<3>oob: .*bad\.ini:\d+: /);
  });

  it('oob check: each problem line it writes itself is <3> on the journal, bare elsewhere', () => {
    mkdirSync(join(dir, 'profiles'), { mode: 0o700 });
    writeFileSync(join(dir, 'profiles', 'bad.ini'), '[interface]\nnic = x\naddress = 10.0.0.1/24\nmtu = many\n', {
      mode: 0o600,
    });
    const lines = stderrOf(['check', 'bad'], 'this').split('\n').filter(Boolean);
    expect(lines.length).to.be.greaterThan(1);
    expect(lines.filter((l) => !l.startsWith('<3>'))).to.deep.equal([]);
    expect(lines[0]).to.match(/^<3>.*bad\.ini:\d+: .*mtu/);
    const bare = stderrOf(['check', 'bad'], 'none').split('\n').filter(Boolean);
    expect(bare.map((l) => `<3>${l}`)).to.deep.equal(lines);
  });

  it('no prefix on another stream (a terminal, a file, a pipe) even with $JOURNAL_STREAM set', () => {
    expect(stderrOf(['bogus'], 'other')).to.match(/^oob: Unknown argument: bogus/);
    expect(stderrOf(['bogus'], 'none')).to.match(/^oob: Unknown argument: bogus/);
  });
});

// The supervisor as systemd runs it (stderr a stream named by $JOURNAL_STREAM): every line it
// writes, its own and its services', carries a priority, the problems <4> or <3>; elsewhere none.
describe('integration: journald priorities of the supervisor and its services', function () {
  let lab: Lab;
  needSshd('the journald supervisor tests');
  beforeEach(async () => {
    lab = await Lab.create();
    await lab.makeHostKey();
    await lab.writeProfile(
      lab.seedProfile(
        `[service.sshd]\nexec = ${lab.sshdCommand()} -o PidFile=none\nready = tcp:22\nrestart = on-failure\nrestart-delay = 100ms\n` +
          `[service.talk]\nexec = /bin/sh -c 'echo hello\\; echo "<3>my own error"\\; exec sleep 600'\n`,
      ),
    );
  });
  afterEach(async () => {
    await lab.destroy();
  });

  /** oob run with stderr on a file, the journal's or not; a SIGKILLed sshd, a SIGTERM; the file's lines. */
  async function supervise(journal: boolean): Promise<string[]> {
    const file = join(lab.dir, `stderr-${journal}`);
    const fd = openSync(file, 'w');
    const st = fstatSync(fd, { bigint: true });
    const env = lab.env(journal ? { JOURNAL_STREAM: `${st.dev}:${st.ino}` } : {});
    if (!journal) delete env.JOURNAL_STREAM;
    const p = spawn(
      '/usr/bin/nsenter',
      [`--net=/run/netns/${lab.host}`, '--', process.execPath, CLI, 'run', lab.profile],
      {
        env,
        stdio: ['ignore', 'ignore', fd],
      },
    );
    closeSync(fd);
    const exited = new Promise<number | null>((r) => p.on('exit', (code) => r(code)));
    const stateFile = join(lab.runtimeDir, lab.profile, 'state.json');
    const state = () => fsp.readFile(stateFile, 'utf8').then(JSON.parse, () => undefined);
    const first = await waitFor('the supervisor to be ready', async () =>
      (await state())?.ready ? await state() : undefined,
    ).catch((e: Error) => {
      throw new Error(`${e.message}; its stderr:\n${readFileSync(file, 'utf8')}`);
    });
    process.kill(first.services.sshd.pid, 'SIGKILL');
    await waitFor('sshd back', async () => {
      const s = (await state())?.services.sshd;
      return s?.ready && s.pid !== first.services.sshd.pid;
    });
    p.kill('SIGTERM');
    expect(await exited).to.equal(0);
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  }

  it('with stderr the journal: every line has its priority; the kill is <4>, a service line <6> or its own', async () => {
    const lines = await supervise(true);
    expect(lines.length).to.be.greaterThan(5);
    expect(lines.filter((l) => !/^<[0-7]>/.test(l))).to.deep.equal([]);
    const n = lab.profile;
    expect(lines).to.include(`<6>${n}/talk: hello`);
    expect(lines).to.include(`<3>${n}/talk: my own error`);
    expect(lines.filter((l) => l.includes('sshd killed by SIGKILL'))).to.have.length(1);
    expect(lines.find((l) => l.includes('sshd killed by SIGKILL'))).to.match(
      new RegExp(`^<4>oob\\[${n}\\]: sshd killed by SIGKILL`),
    );
    expect(lines.find((l) => l.includes('network up'))).to.match(new RegExp(`^<6>oob\\[${n}\\]: network up`));
    expect(
      lines.some((l) => l.startsWith(`<6>${n}/sshd: `)),
      'sshd -e output as info',
    ).to.equal(true);
    // what `journalctl -p warning` would show: just the problems
    expect(lines.filter((l) => /^<[0-4]>/.test(l)).map((l) => l.replace(/ after [\d.]+ s$/, ''))).to.deep.equal([
      `<3>${n}/talk: my own error`,
      `<4>oob[${n}]: sshd killed by SIGKILL`,
    ]);
  });

  it('with stderr a plain file: no line has a priority', async () => {
    const lines = await supervise(false);
    expect(lines.length).to.be.greaterThan(5);
    expect(lines.filter((l) => /^<\d>/.test(l))).to.deep.equal([]);
    expect(lines).to.include(`${lab.profile}/talk: <3>my own error`);
  });
});
