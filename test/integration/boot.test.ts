import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { Container } from './container.js';
import { banner, isRoot, waitFor } from './lab.js';

const SSHD = '/usr/sbin/sshd -D -e -o PidFile=/run/sshd-mgmt.pid -o ListenAddress=10.20.30.1';

describe('integration: persistence with a real systemd booted in a container', function () {
  this.timeout(300_000);
  let ct: Container;
  before(async function () {
    if (!isRoot()) {
      console.log('    SKIPPED: the boot tests need root');
      this.skip();
    }
    if (!Container.available()) throw new Error('these tests need systemd-container (test/install-deps.sh installs it)');
    if (!existsSync('/usr/sbin/sshd')) throw new Error('these tests need openssh-server (test/install-deps.sh installs it)');
    ct = await Container.create();
    // The profile already has its sshd copy; enable fills in [interface] from its flags.
    await ct.write('/etc/oob/profiles/mgmt.ini', `# the management plane of this test container\n[interface]\n\n[service.sshd]\nexec = ${SSHD}\nready = tcp:22\nrestart-delay = 200ms\n`, 0o600);
    // sshd's privilege separation directory, which ssh.service would create only later in the boot
    await ct.write('/etc/tmpfiles.d/oob-test-sshd.conf', 'd /run/sshd 0755 root root -\n');
    const t0 = Date.now();
    await ct.boot();
    console.log(`      (first boot: ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    // oob gets in as an admin installs it: the package built from this checkout, dpkg -i inside
    const deb = await Container.buildPackage(ct.dir);
    const inst = await ct.installPackage(deb);
    if (inst.code !== 0) throw new Error(`dpkg -i in the container failed: ${inst.stderr}${inst.stdout}`);
  });
  after(async () => {
    const t0 = Date.now();
    await ct?.destroy();
    console.log(`      (powered off and unmounted in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  });

  const active = async () => (await ct.exec(['systemctl', 'is-active', 'oob@mgmt.service'])).stdout.trim();
  const show = async (prop: string) => (await ct.exec(['systemctl', 'show', '-P', prop, '--timestamp=us+utc', 'oob@mgmt.service'])).stdout.trim();
  const usec = (ts: string) => {
    const m = /(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.(\d{6}) UTC/.exec(ts);
    if (!m) throw new Error(`not a timestamp: ${ts}`);
    return Date.parse(`${m[1]!.replace(" ", "T")}Z`) * 1000 + Number(m[2]);
  };

  it('oob enable --nic host0 --address --gateway: writes the unit and its drop-in, starts it, host0 moves into mgmt and sshd answers', async () => {
    const r = await ct.oob(['enable', 'mgmt', '--nic', 'host0', '--address', '10.20.30.1/24', '--gateway', '10.20.30.20']);
    expect(r.code, r.stderr + r.stdout).to.equal(0);
    // the package's template runs /usr/bin/oob; enable adds only the drop-in
    expect(r.stdout).not.to.match(/wrote \/etc\/systemd\/system\/oob@\.service/);
    expect(await ct.mustExec(['realpath', await show('FragmentPath')])).to.equal('/usr/lib/systemd/system/oob@.service\n');
    expect(await show('ExecStart')).to.match(/^\{ path=\/usr\/bin\/oob ; argv\[\]=\/usr\/bin\/oob run mgmt ;/);
    expect(r.stdout).to.match(/wrote \/etc\/systemd\/system\/oob@mgmt\.service\.d\/10-oob\.conf/);
    expect(r.stdout).to.match(/wrote \/etc\/systemd\/network\/05-oob-mgmt\.network/);
    expect(r.stdout).to.match(/oob@mgmt\.service enabled; active/);
    const profile = await ct.mustExec(['cat', '/etc/oob/profiles/mgmt.ini']);
    expect(profile).to.match(/^# the management plane of this test container$/m).and.match(/^nic = host0$/m).and.match(/^address = 10\.20\.30\.1\/24$/m).and.match(/^exec = \/usr\/sbin\/sshd/m);
    const mac = (await ct.mustExec(['cat', '/sys/class/net/host0/address']).catch(() => '')).trim();
    const rule = await ct.mustExec(['cat', '/etc/systemd/network/05-oob-mgmt.network']);
    expect(rule).to.match(/^Unmanaged=yes$/m);
    if (mac) expect(rule).to.include(`MACAddress=${mac}`);
    expect(await active()).to.equal('active');
    expect(await ct.mustExec(['ip', '-n', 'mgmt', '-br', 'addr', 'show', 'host0'])).to.match(/10\.20\.30\.1\/24/);
    expect(await waitFor('the banner', async () => ((await banner(ct.lan, '10.20.30.1', 22)).startsWith('SSH-') ? true : undefined), 10_000)).to.equal(true);
  });

  let secondsToBanner = 0;
  it('after a reboot, with no further command: active, host0 in mgmt with its address and route, the SSH banner answers', async () => {
    await ct.reboot();
    const t = await waitFor('the SSH banner after boot', async () => ((await banner(ct.lan, '10.20.30.1', 22)).startsWith('SSH-') ? Date.now() : undefined), 60_000);
    secondsToBanner = (t - ct.bootStartedAt) / 1000;
    console.log(`      (container start -> SSH banner answering in mgmt: ${secondsToBanner.toFixed(1)} s)`);
    expect(await waitFor('the unit to be active', async () => ((await active()) === 'active' ? 'active' : undefined), 60_000)).to.equal('active');
    expect(await ct.mustExec(['ip', 'netns', 'list'])).to.match(/^mgmt/m);
    expect(await ct.mustExec(['ip', '-n', 'mgmt', '-br', 'addr', 'show', 'host0'])).to.match(/10\.20\.30\.1\/24/);
    expect(await ct.mustExec(['ip', '-n', 'mgmt', 'route', 'show', 'default'])).to.match(/default via 10\.20\.30\.20 dev host0/);
    expect((await ct.exec(['ip', 'link', 'show', 'host0'])).code, 'host0 is still in the host namespace').not.to.equal(0);
  });

  it('the unit became active only once sshd was ready (Type=notify), not when the supervisor started', async () => {
    const state = JSON.parse(await ct.mustExec(['cat', '/run/oob/mgmt/state.json']));
    const readyAt = Date.parse(state.services.sshd.readyAt) * 1000;
    const started = usec(await show('ExecMainStartTimestamp'));
    const activeAt = usec(await show('ActiveEnterTimestamp'));
    expect(await show('Type').catch(() => '')).to.equal('notify');
    expect(readyAt, 'sshd got ready after the supervisor started').to.be.greaterThan(started);
    expect(activeAt, 'the unit became active after sshd was ready').to.be.at.least(readyAt - 1000);
  });

  it('SIGKILL to the supervisor: systemd restarts it and sshd comes back', async () => {
    const main = Number(await show('MainPID'));
    expect(main).to.be.greaterThan(0);
    await ct.mustExec(['kill', '-9', String(main)]);
    await waitFor('systemd to restart the unit', async () => Number(await show('NRestarts')) >= 1 && (await active()) === 'active' && Number(await show('MainPID')) !== main, 60_000);
    expect(await waitFor('the banner again', async () => ((await banner(ct.lan, '10.20.30.1', 22)).startsWith('SSH-') ? true : undefined), 20_000)).to.equal(true);
    const sshds = (await ct.exec(['pgrep', '-f', '-c', 'sshd -D -e -o PidFile=/run/sshd-mgmt.pid'])).stdout.trim();
    expect(sshds).to.equal('1');
  });

  it('oob disable --now, then a reboot: nothing of oob remains and host0 is back in the container\'s host namespace', async () => {
    const r = await ct.oob(['disable', 'mgmt', '--now']);
    expect(r.code, r.stderr + r.stdout).to.equal(0);
    expect((await ct.exec(['ip', 'link', 'show', 'host0'])).code).to.equal(0);
    await ct.reboot();
    expect((await ct.exec(['ip', 'link', 'show', 'host0'])).code).to.equal(0);
    expect((await ct.mustExec(['ip', 'netns', 'list'])).trim()).to.equal('');
    expect((await ct.exec(['systemctl', 'is-enabled', 'oob@mgmt.service'])).stdout.trim()).not.to.equal('enabled');
    expect((await ct.mustExec(['sh', '-c', 'ls /etc/systemd/system/oob@* /etc/systemd/system/*/oob@* /etc/systemd/network/*oob* /run/oob/* 2>/dev/null; true'])).trim()).to.equal('');
    expect(await ct.mustExec(['cat', '/etc/oob/profiles/mgmt.ini'])).to.match(/^nic = host0$/m); // the profile stays
  });
});
