// A hostile admin's attack on oob's promises (issue 8), on real namespaces: a full runtime disk.
// Each test failed before the fix it guards.
import { expect } from 'chai';
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { isRoot, Lab, linkFacts, must, sh, snapshot, waitFor } from './lab.js';

describe('integration: attack (full disk)', function () {
  let lab: Lab;
  let disk = '';
  before(function () {
    if (!isRoot()) this.skip();
  });
  beforeEach(async () => {
    lab = await Lab.create();
    // the runtime directory on a tmpfs of its own, which the test fills
    disk = path.join(lab.dir, 'disk');
    await fsp.mkdir(disk);
    await must(['mount', '-t', 'tmpfs', '-o', 'size=256k,mode=755', 'oobt-disk', disk]);
    lab.runtimeDir = path.join(disk, 'run');
  });
  afterEach(async () => {
    await sh(['umount', '-l', disk]);
    await lab?.destroy();
    expect(await lab.namespaces()).to.deep.equal([]);
  });
  const fill = () => sh(['dd', 'if=/dev/zero', `of=${path.join(disk, 'fill')}`, 'bs=4k', 'count=1000']);
  const unfill = () => fsp.rm(path.join(disk, 'fill'), { force: true });
  const hostFacts = async () => (await snapshot(lab.host)).links.map(linkFacts);

  it('up on a full runtime disk: exit 10, the host as before, no temp file nor empty directory left behind', async () => {
    await lab.writeProfile(lab.seedProfile());
    await lab.oob(['check', lab.profile]); // makes the runtime directory and its locks before the disk is full
    await fill();
    const before = await hostFacts();
    const r = await lab.oob(['up', lab.profile]);
    expect(r.code, r.stderr).to.equal(10);
    expect(r.stderr).to.match(/ENOSPC/);
    expect(await hostFacts()).to.deep.equal(before);
    expect(existsSync(path.join(lab.runtimeDir, lab.profile)), 'no runtime directory of the profile left').to.equal(
      false,
    );
    await unfill();
    const up = await lab.oob(['up', lab.profile]);
    expect(up.stderr, 'a failed write removed its own temp file: nothing for the next oob to clean').not.to.match(
      /removed .*tmp/,
    );
    expect(up.code, up.stderr).to.equal(0);
    expect((await lab.oob(['down', lab.profile])).code).to.equal(0);
  });

  it('a supervisor that cannot write its state: status never shows the dead pid as ready, and no temp files pile up', async () => {
    await lab.writeProfile(lab.seedProfile('[service.idle]\nexec = /bin/sleep 100000\nrestart = always\n'));
    const st = await lab.oob(['start', lab.profile]);
    expect(st.code, st.stderr).to.equal(0);
    const status = async () => JSON.parse((await lab.oob(['status', '--json', lab.profile])).stdout).profiles[0];
    const first = (await status()).services[0];
    expect(first.ready).to.equal(true);
    await fill();
    process.kill(first.pid, 'SIGKILL');
    // the supervisor restarts it, but cannot say so in its state file
    await waitFor('the service to be restarted', async () => {
      const pids = (await sh(['ip', 'netns', 'pids', lab.profile])).stdout.trim().split('\n').map(Number);
      return pids.some((p) => p !== first.pid && existsSync(`/proc/${p}`) && p > 0) || undefined;
    });
    const now = await status();
    expect(now.services[0], 'the dead pid is not ready').to.deep.include({ pid: first.pid, ready: false });
    expect(now.health).to.equal('degraded');
    expect(now.problems.join('\n')).to.match(new RegExp(`idle: pid ${first.pid} is gone`));
    const left = await fsp.readdir(path.join(lab.runtimeDir, lab.profile));
    expect(left.filter((f) => f.includes('.tmp-'))).to.deep.equal([]);
    await unfill();
    const stop = await lab.oob(['stop', lab.profile]);
    expect(stop.code, stop.stderr).to.equal(0);
  });
});

describe('integration: attack (kills)', function () {
  let lab: Lab;
  before(function () {
    if (!isRoot()) this.skip();
  });
  beforeEach(async () => {
    lab = await Lab.create();
  });
  afterEach(async () => {
    await lab?.destroy();
    expect(await lab.namespaces()).to.deep.equal([]);
  });

  it('a supervisor killed with SIGKILL: down restores the host and leaves no state file of it behind', async () => {
    await lab.writeProfile(lab.seedProfile('[service.idle]\nexec = /bin/sleep 100000\n'));
    const st = await lab.oob(['start', lab.profile]);
    expect(st.code, st.stderr).to.equal(0);
    const sup = JSON.parse((await lab.oob(['status', '--json', lab.profile])).stdout).profiles[0].supervisor.pid;
    process.kill(sup, 'SIGKILL');
    await waitFor('the supervisor to be gone', async () => !existsSync(`/proc/${sup}`) || undefined);
    const down = await lab.oob(['down', lab.profile]);
    expect(down.code, down.stderr).to.equal(0);
    // its log stays, for the post-mortem; its state file, which status would read, goes
    expect(await fsp.readdir(path.join(lab.runtimeDir, lab.profile))).to.deep.equal(['supervisor.log']);
    const status = JSON.parse((await lab.oob(['status', '--json', lab.profile])).stdout).profiles[0];
    expect(status.supervisor.running).to.equal(false);
  });
  it('a service removed from the profile while its supervisor was dead (SIGKILL) is stopped by the next one, not left running unseen', async () => {
    const two = '[service.keep]\nexec = /bin/sleep 100000\n[service.gone]\nexec = /bin/sleep 300000\n';
    await lab.writeProfile(lab.seedProfile(two));
    const st = await lab.oob(['start', lab.profile]);
    expect(st.code, st.stderr).to.equal(0);
    const sup = JSON.parse((await lab.oob(['status', '--json', lab.profile])).stdout).profiles[0].supervisor.pid;
    process.kill(sup, 'SIGKILL');
    await waitFor('the supervisor to be gone', async () => !existsSync(`/proc/${sup}`) || undefined);
    await lab.writeProfile(lab.seedProfile('[service.keep]\nexec = /bin/sleep 100000\n'));
    const again = await lab.oob(['start', lab.profile]);
    expect(again.code, again.stderr).to.equal(0);
    const pids = (await sh(['ip', 'netns', 'pids', lab.profile])).stdout.split('\n').filter(Boolean);
    const argvs = await Promise.all(
      pids.map(async (p) => (await fsp.readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '')).split('\0').join(' ')),
    );
    expect(argvs.filter((a) => a.startsWith('/bin/sleep'))).to.deep.equal(['/bin/sleep 100000 ']);
    const stop = await lab.oob(['stop', lab.profile]);
    expect(stop.code, stop.stderr).to.equal(0);
  });
});

describe('integration: attack (supervisor)', function () {
  let lab: Lab;
  before(function () {
    if (!isRoot()) this.skip();
  });
  beforeEach(async () => {
    lab = await Lab.create();
  });
  afterEach(async () => {
    await lab?.destroy();
    expect(await lab.namespaces()).to.deep.equal([]);
  });

  /** The command lines of the processes in the profile's namespace. */
  const inNs = async () => {
    const pids = (await sh(['ip', 'netns', 'pids', lab.profile])).stdout.split('\n').filter(Boolean);
    const out: Array<{ pid: number; argv: string }> = [];
    for (const p of pids) {
      const argv = await fsp.readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '');
      if (argv) out.push({ pid: Number(p), argv: argv.split('\0').join(' ').trim() });
    }
    return out;
  };

  it('a forking daemon restarted by SIGHUP before it wrote its pidfile: exactly one copy runs, and status follows it', async () => {
    // a daemon like sshd without -D: the starter exits at once, the daemon names itself a moment later
    const pidFile = path.join(lab.runtimeDir, 'd.pid');
    const daemon = path.join(lab.dir, 'daemon.sh');
    await fsp.writeFile(
      daemon,
      `#!/bin/sh\n( sleep 1.5; exec sh -c 'echo $$ > "$0"; exec sleep 1000$GEN' "$1" ) >/dev/null 2>&1 &\nexit 0\n`,
      { mode: 0o755 },
    );
    const profile = (gen: number) =>
      lab.seedProfile(`[service.d]\nexec = ${daemon} ${pidFile}\npidfile = ${pidFile}\nenv = GEN=${gen}\n`);
    await lab.writeProfile(profile(1));
    const st = await lab.oob(['start', lab.profile]);
    expect(st.code, st.stderr).to.equal(0);
    const status = async () => JSON.parse((await lab.oob(['status', '--json', lab.profile])).stdout).profiles[0];
    const sup: number = (await status()).supervisor.pid;
    // generation 2 starts; while its daemon has not yet written the pidfile, generation 3 replaces it
    await lab.writeProfile(profile(2));
    process.kill(sup, 'SIGHUP');
    const log = path.join(lab.runtimeDir, lab.profile, 'supervisor.log');
    const starter = await waitFor('generation 2 to be started', async () => {
      const started = [...(await fsp.readFile(log, 'utf8')).matchAll(/started d \(pid (\d+)\)/g)];
      return started.length === 2 ? Number(started[1]![1]) : undefined;
    });
    // its starter has exited: the supervisor waits for the pidfile now
    await waitFor('the starter of generation 2 to exit', async () => !existsSync(`/proc/${starter}`));
    await lab.writeProfile(profile(3));
    process.kill(sup, 'SIGHUP');
    const three = await waitFor('generation 3 to run and be ready', async () => {
      const d = (await status()).services[0];
      const mine = (await inNs()).find((p) => p.argv === 'sleep 10003');
      return d.ready && mine && d.pid === mine.pid ? mine : undefined;
    });
    // the daemon of generation 2 would have named itself by now (1.5 s after its start, before 3's)
    const sleeps = (await inNs()).filter((p) => p.argv.startsWith('sleep 1000'));
    expect(sleeps, 'one copy, the supervised one').to.deep.equal([three]);
    const stop = await lab.oob(['stop', lab.profile]);
    expect(stop.code, stop.stderr).to.equal(0);
  });
});

describe('integration: attack (races)', function () {
  let lab: Lab;
  before(function () {
    if (!isRoot()) this.skip();
  });
  beforeEach(async () => {
    lab = await Lab.create();
  });
  afterEach(async () => {
    await lab?.destroy();
    expect(await lab.namespaces()).to.deep.equal([]);
  });

  it('two `oob start` at once: both succeed (one starts it, the other finds it running), one supervisor runs', async () => {
    await lab.writeProfile(lab.seedProfile('[service.idle]\nexec = /bin/sleep 100000\n'));
    for (let round = 0; round < 4; round++) {
      const [a, b] = await Promise.all([lab.oob(['start', lab.profile]), lab.oob(['start', lab.profile])]);
      expect([a.code, b.code], `round ${round}: ${a.stderr}${b.stderr}`).to.deep.equal([0, 0]);
      const sups = (await sh(['pgrep', '-f', `cli.js run ${lab.profile}$`])).stdout.trim().split('\n');
      expect(sups, `round ${round}`).to.have.length(1);
      const stop = await lab.oob(['stop', lab.profile]);
      expect(stop.code, stop.stderr).to.equal(0);
    }
  });
});
