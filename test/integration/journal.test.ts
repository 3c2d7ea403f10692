import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from './lab.js';

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

  it('no prefix on another stream (a terminal, a file, a pipe) even with $JOURNAL_STREAM set', () => {
    expect(stderrOf(['bogus'], 'other')).to.match(/^oob: Unknown argument: bogus/);
    expect(stderrOf(['bogus'], 'none')).to.match(/^oob: Unknown argument: bogus/);
  });
});
