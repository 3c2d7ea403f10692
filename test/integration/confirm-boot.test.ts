// Remote-safe changes (issue 9) under a real systemd (nspawn over an overlay: nothing on this machine
// changes): enable and disable with --confirm, reverted byte for byte unless confirmed; the worker
// as the transient unit oob-confirm-NAME (oob runs in PID 1's namespaces there); a reboot inside
// the window reverts at boot; a confirmed enable survives one.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { Container } from './container.js';
import { collected, isRoot, unitActive, unitState as labUnitState, waitFor } from './lab.js';

const NAME = 'mgmt';
const UNIT = `oob@${NAME}.service`;
const WORKER = `oob-confirm-${NAME}.service`;
/** Every file enable and disable write or remove, and the wants link. */
const FILES = [
  `/etc/oob/profiles/${NAME}.ini`,
  '/etc/systemd/system/oob@.service',
  `/etc/systemd/system/oob@${NAME}.service.d/10-oob.conf`,
  `/etc/NetworkManager/conf.d/90-oob-${NAME}.conf`,
  `/etc/systemd/network/05-oob-${NAME}.network`,
  `/etc/systemd/system/multi-user.target.wants/oob@${NAME}.service`,
];
const PENDING = `/var/lib/oob/confirm/${NAME}.json`;
const ENABLE = ['enable', NAME, '--nic', 'host0', '--address', '10.20.30.1/24', '--gateway', '10.20.30.20'];

describe('integration: enable/disable --confirm under a real systemd, and a reboot inside the window (issue 9)', function () {
  this.timeout(300_000);
  let ct: Container;
  before(async function () {
    if (!isRoot()) {
      console.log('    SKIPPED: the container tests need root');
      this.skip();
    }
    if (!Container.available())
      throw new Error('these tests need systemd-container (test/install-deps.sh installs it)');
    if (!existsSync('/usr/sbin/sshd'))
      throw new Error('these tests need openssh-server (test/install-deps.sh installs it)');
    ct = await Container.create();
    // a profile without services: the plane is the network only (sshd is not what is tested here)
    await ct.write(`/etc/oob/profiles/${NAME}.ini`, `# the admin's own comment\n[interface]\n`, 0o600);
    await fsp.rm(path.join(ct.merged, 'usr/sbin/policy-rc.d'), { force: true });
    const deb = await Container.buildPackage(ct.dir);
    await ct.boot();
    const inst = await ct.installPackage(deb);
    if (inst.code !== 0) throw new Error(`dpkg -i in the container failed: ${inst.stderr}${inst.stdout}`);
    await hostNicConfigured();
  });
  after(async () => {
    await ct?.destroy();
  });

  /** host0 in the container's host namespace as an admin left it: an address and a route of its own. */
  async function hostNicConfigured() {
    await ct.exec(['ip', 'addr', 'add', '10.20.30.1/24', 'brd', '+', 'dev', 'host0']);
    await ct.exec(['ip', 'link', 'set', 'host0', 'up']);
    await ct.exec(['ip', 'route', 'add', '172.16.99.0/24', 'via', '10.20.30.20', 'dev', 'host0']);
  }
  /** The files byte for byte (null: absent; a link: where it points). */
  const files = async () => {
    const out: Record<string, string | null> = {};
    for (const f of FILES) {
      const p = path.join(ct.merged, f);
      const l = await fsp.readlink(p).catch(() => undefined);
      out[f] = l !== undefined ? `-> ${l}` : await fsp.readFile(p, 'utf8').catch(() => null);
    }
    return out;
  };
  /** The container's host namespace as `ip -j` prints it, host0's addresses, routes and link. */
  const net = async () => {
    // right after host0 comes back its IPv6 link-local address is tentative (DAD) for a moment
    await waitFor(
      'host0 to settle',
      async () =>
        !(await ct.exec(['ip', '-j', 'addr', 'show', 'dev', 'host0'])).stdout.includes('tentative') ? true : undefined,
      20_000,
    );
    return netNow();
  };
  const netNow = async () => ({
    addr: (await ct.exec(['ip', '-j', 'addr', 'show', 'dev', 'host0'])).stdout,
    route: (await ct.exec(['ip', '-j', 'route', 'show', 'table', 'all', 'dev', 'host0'])).stdout,
    link: (await ct.exec(['ip', '-j', 'link', 'show', 'dev', 'host0'])).stdout,
  });
  const unitState = (unit: string, prop: string) => labUnitState(ct, unit, prop);
  const isEnabled = async () => (await ct.exec(['systemctl', 'is-enabled', UNIT])).stdout.trim();
  const pending = async () =>
    JSON.parse(await fsp.readFile(path.join(ct.merged, PENDING), 'utf8').catch(() => 'null')) as {
      state: string;
      pid: number;
      before?: { files: Array<{ path: string; content: string | null }> };
    } | null;
  const hostHasNic = async () => (await ct.exec(['ip', 'link', 'show', 'host0'])).code === 0;

  /** oob inside the container, in the background, in its own process group (so the test can SIGKILL it all). */
  function background(args: string[]) {
    return collected(
      spawn('nsenter', ['-t', String(ct.initPid), '-a', '/usr/bin/oob', ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      }),
    );
  }
  const waiting = () =>
    waitFor(
      'the change to wait for its confirmation',
      async () => (await pending())?.state === 'waiting' || undefined,
      120_000,
    );
  const gone = () =>
    waitFor('the pending change to end', async () => ((await pending()) === null ? true : undefined), 120_000);

  it('a first enable --confirm --json, not confirmed: the worker is the transient unit; files, unit and host0 as before (ip -j), one JSON document', async () => {
    const beforeFiles = await files();
    const beforeNet = await net();
    expect(beforeNet.addr).to.include('10.20.30.1');
    const bg = background([...ENABLE, '--confirm=4s', '--json']);
    await waiting();
    // the worker runs as a transient unit of the container's systemd, not as the caller's child
    expect(await unitState(WORKER, 'ActiveState')).to.equal('active');
    expect(await unitState(WORKER, 'MainPID')).to.equal(String((await pending())!.pid));
    // saved on disk before the change: the profile as the admin wrote it, no drop-in
    const saved = (await pending())!.before!.files;
    expect(saved.find((f) => f.path.endsWith(`${NAME}.ini`))!.content).to.equal(beforeFiles[FILES[0]!]);
    expect(saved.find((f) => f.path.endsWith('10-oob.conf'))!.content).to.equal(null);
    expect(await isEnabled()).to.equal('enabled');
    expect(await hostHasNic()).to.equal(false);
    const r = await bg.done;
    expect(r.code, r.stderr).to.equal(10);
    const lines = r.stdout.trim().split('\n');
    expect(lines).to.have.length(1);
    const doc = JSON.parse(lines[0]!);
    expect(doc).to.include({ changed: false, name: NAME, enabled: true });
    expect(doc.confirm.result).to.equal('reverted');
    expect(r.stderr).to.match(/not confirmed within 4 s: enable reverted/);
    expect(await files()).to.deep.equal(beforeFiles);
    expect(await isEnabled()).not.to.equal('enabled');
    expect(await unitState(UNIT, 'ActiveState')).to.equal('inactive');
    expect(await net()).to.deep.equal(beforeNet);
    expect(await pending()).to.equal(null);
  });

  let enabledFiles: Record<string, string | null> = {};
  it('enable --confirm, confirmed with oob confirm: kept (enabled, active, host0 in the namespace), also after the deadline', async () => {
    const bg = background([...ENABLE, '--confirm=5s', '--json']);
    await waiting();
    const c = await ct.oob(['confirm', NAME]);
    expect(c.code, c.stderr).to.equal(0);
    const r = await bg.done;
    expect(r.code, r.stderr).to.equal(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).to.include({ changed: true, enabled: true, started: true });
    expect(doc.confirm.result).to.equal('confirmed');
    await new Promise((res) => setTimeout(res, 5500));
    expect(await isEnabled()).to.equal('enabled');
    expect(await unitState(UNIT, 'ActiveState')).to.equal('active');
    expect(await ct.mustExec(['ip', '-n', NAME, '-br', 'addr', 'show', 'host0'])).to.match(/10\.20\.30\.1\/24/);
    enabledFiles = await files();
    expect(enabledFiles[FILES[2]!]).to.match(/^# generated by oob/);
  });

  it('a re-enable --confirm with another address, reverted by oob revert: the previous files byte for byte, restarted on them', async () => {
    const beforeAddr = await ct.mustExec(['ip', '-n', NAME, '-j', 'addr', 'show', 'dev', 'host0']);
    const bg = background(['enable', NAME, '--address', '10.20.30.2/24', '--confirm=300s']);
    await waiting();
    expect(await ct.mustExec(['cat', `/etc/oob/profiles/${NAME}.ini`])).to.match(/^address = 10\.20\.30\.2\/24$/m);
    const rv = await ct.oob(['revert', NAME]);
    expect(rv.code, rv.stderr).to.equal(0);
    const r = await bg.done;
    expect(r.code).to.equal(10);
    expect(await files()).to.deep.equal(enabledFiles);
    expect(await unitState(UNIT, 'ActiveState')).to.equal('active');
    const addr = await waitFor(
      'the old address back in the namespace',
      async () => {
        const a = (await ct.exec(['ip', '-n', NAME, '-j', 'addr', 'show', 'dev', 'host0'])).stdout;
        return a.includes('10.20.30.1') ? a : undefined;
      },
      30_000,
    );
    expect(JSON.parse(addr)[0].addr_info.map((a: { local: string }) => a.local)).to.deep.equal(
      JSON.parse(beforeAddr)[0].addr_info.map((a: { local: string }) => a.local),
    );
  });

  it('disable --now --confirm, the caller SIGKILLed with its process group: the worker goes on, and unconfirmed re-enables and starts it', async () => {
    const bg = background(['disable', NAME, '--now', '--confirm=3s']);
    await waitFor('the worker to take the change', async () => {
      const p = await pending();
      return p !== null && p.state !== 'starting' ? true : undefined;
    });
    process.kill(-bg.child.pid!, 'SIGKILL');
    expect((await bg.done).signal).to.equal('SIGKILL');
    await gone();
    expect(await files()).to.deep.equal(enabledFiles);
    expect(await isEnabled()).to.equal('enabled');
    expect(await unitActive(ct, UNIT, 'the unit active again')).to.equal(true);
    expect(await hostHasNic()).to.equal(false);
  });

  it('the worker SIGKILLed itself (systemctl kill): systemd starts it again, it resumes and reverts unconfirmed', async () => {
    const bg = background(['disable', NAME, '--now', '--confirm=4s']);
    await waiting();
    const first = (await pending())!.pid;
    await ct.mustExec(['systemctl', 'kill', '--signal=SIGKILL', WORKER]);
    const second = await waitFor('a new worker to resume the change', async () => {
      const p = await pending();
      return p && p.pid !== first ? p.pid : undefined;
    });
    expect(await unitState(WORKER, 'MainPID')).to.equal(String(second));
    await gone();
    expect(await isEnabled()).to.equal('enabled');
    expect(await unitActive(ct, UNIT, 'the unit active again')).to.equal(true);
    expect(await files()).to.deep.equal(enabledFiles);
    await bg.done;
  });

  it('a reboot inside the window of a first enable: after the boot the unit is not enabled, host0 is back with its address, no pending change is left', async () => {
    const off = await ct.oob(['disable', NAME, '--now']);
    expect(off.code, off.stderr).to.equal(0);
    await fsp.writeFile(
      path.join(ct.merged, `etc/oob/profiles/${NAME}.ini`),
      `# the admin's own comment\n[interface]\n`,
    );
    const beforeFiles = await files();
    const bg = background([...ENABLE, '--confirm=600s']);
    await waiting();
    expect(await hostHasNic()).to.equal(false);
    // the admin's session does not outlive the reboot
    process.kill(-bg.child.pid!, 'SIGKILL');
    await bg.done;
    await ct.reboot().catch((e) => {
      console.log(ct.console.slice(-4000));
      throw e;
    });
    expect(await isEnabled()).not.to.equal('enabled');
    expect(await files()).to.deep.equal(beforeFiles);
    expect(await pending()).to.equal(null);
    expect(await hostHasNic()).to.equal(true);
    expect((await ct.mustExec(['ip', 'netns', 'list'])).trim()).to.equal('');
    expect(await unitState(UNIT, 'ActiveState')).to.equal('inactive');
    const journal = await ct.mustExec(['journalctl', '-b', '-u', UNIT, '-o', 'cat']);
    expect(journal).to.match(/never confirmed .*reverted at start: .*disabled, the plane not brought up/);
    // host0 as an admin configures it again after a boot (nothing of oob holds it)
    await hostNicConfigured();
    expect(await ct.mustExec(['ip', '-br', 'addr', 'show', 'host0'])).to.match(/10\.20\.30\.1\/24/);
  });

  it('a confirmed enable, then a reboot: it stays (enabled, host0 in the namespace)', async () => {
    const bg = background([...ENABLE, '--confirm=60s']);
    await waiting();
    expect((await ct.oob(['confirm', NAME])).code).to.equal(0);
    expect((await bg.done).code).to.equal(0);
    await ct.reboot();
    expect(await isEnabled()).to.equal('enabled');
    expect(await unitActive(ct, UNIT, 'the unit active')).to.equal(true);
    expect(await ct.mustExec(['ip', '-n', NAME, '-br', 'addr', 'show', 'host0'])).to.match(/10\.20\.30\.1\/24/);
    expect(await pending()).to.equal(null);
  });

  it('a reboot inside the window of a disable --now: after the boot the unit is enabled and active again, the files as before, no pending change', async () => {
    const beforeFiles = await files();
    expect(await isEnabled()).to.equal('enabled');
    const bg = background(['disable', NAME, '--now', '--confirm=600s']);
    await waiting();
    expect(await isEnabled()).not.to.equal('enabled');
    expect(await hostHasNic()).to.equal(true);
    process.kill(-bg.child.pid!, 'SIGKILL');
    await bg.done;
    await ct.reboot();
    expect(await isEnabled()).to.equal('enabled');
    expect(await unitActive(ct, UNIT, 'the unit active')).to.equal(true);
    expect(await files()).to.deep.equal(beforeFiles);
    expect(await pending()).to.equal(null);
    expect(await hostHasNic()).to.equal(false);
    const journal = await ct.mustExec(['journalctl', '-b', '-u', UNIT, '-o', 'cat']);
    expect(journal).to.match(/the disable --confirm of .* was never confirmed/);
  });
});
