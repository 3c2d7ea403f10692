import { expect } from 'chai';
import { existsSync, promises as fsp, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Container } from './container.js';
import { banner, isRoot, waitFor } from './lab.js';

// The package's life on a real systemd (nspawn, over an overlay: nothing here changes on this
// machine): install v1, enable a plane, upgrade to v2 while an SSH client keeps knocking, remove,
// purge.
const VERSION = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
const V2 = `${VERSION}+t2`;
const SSHD = '/usr/sbin/sshd -D -e -o PidFile=/run/sshd-mgmt.pid -o ListenAddress=10.20.30.1';

describe('integration: the Debian package installed, upgraded, removed and purged under a real systemd', function () {
  this.timeout(300_000);
  let ct: Container;
  let v1 = '';
  let v2 = '';
  before(async function () {
    if (!isRoot()) {
      console.log('    SKIPPED: the package tests in a container need root');
      this.skip();
    }
    if (!Container.available())
      throw new Error('these tests need systemd-container (test/install-deps.sh installs it)');
    if (!existsSync('/usr/sbin/sshd'))
      throw new Error('these tests need openssh-server (test/install-deps.sh installs it)');
    ct = await Container.create();
    await ct.write(
      '/etc/oob/profiles/mgmt.ini',
      `[interface]\n\n[service.sshd]\nexec = ${SSHD}\nready = tcp:22\nrestart-delay = 200ms\n`,
      0o600,
    );
    await ct.write('/etc/tmpfiles.d/oob-test-sshd.conf', 'd /run/sshd 0755 root root -\n');
    // a server as admins have it: this machine's image may carry a policy-rc.d that forbids
    // maintainer scripts to stop or start anything (Docker's); the container's copy goes
    await fsp.rm(path.join(ct.merged, 'usr/sbin/policy-rc.d'), { force: true });
    v1 = await Container.buildPackage(ct.dir);
    v2 = await Container.buildPackage(ct.dir, V2);
    await ct.boot();
  });
  after(async () => {
    await ct?.destroy();
  });

  const unit = 'oob@mgmt.service';
  const show = async (prop: string) => (await ct.exec(['systemctl', 'show', '-P', prop, unit])).stdout.trim();
  const up = async () => (await banner(ct.lan, '10.20.30.1', 22)).startsWith('SSH-');

  it('v1 installs: /usr/bin/oob prints its version, systemd knows the template; enable starts a plane', async () => {
    const i = await ct.installPackage(v1);
    expect(i.code, i.stderr + i.stdout).to.equal(0);
    expect((await ct.mustExec(['/usr/bin/oob', '--version'])).trim()).to.equal(VERSION);
    expect(await ct.mustExec(['systemctl', 'cat', 'oob@.service'])).to.match(/^ExecStart=\/usr\/bin\/oob run %i$/m);
    const r = await ct.oob([
      'enable',
      'mgmt',
      '--nic',
      'host0',
      '--address',
      '10.20.30.1/24',
      '--gateway',
      '10.20.30.20',
    ]);
    expect(r.code, r.stderr + r.stdout).to.equal(0);
    expect(await show('ActiveState')).to.equal('active');
    expect(await waitFor('the banner', async () => (await up()) || undefined, 10_000)).to.equal(true);
  });

  it("oob demo runs from the installed package (the README's first command) and leaves nothing", async () => {
    const r = await ct.oob(['demo']);
    expect(r.code, r.stderr + r.stdout).to.equal(0);
    expect(r.stdout).to.match(/from namespace oobdemo: hello from the MANAGEMENT LAN/);
    expect(
      (await ct.mustExec(['ip', 'netns', 'list'])).split('\n').filter((l) => l.startsWith('oobdemo')),
    ).to.deep.equal([]);
  });

  it('upgrade to v2: the plane is not restarted, the banner never stops answering, the unit stays enabled', async () => {
    const pid = await show('MainPID');
    let probes = 0;
    const missed: number[] = [];
    let upgrading = true;
    const prober = (async () => {
      while (upgrading) {
        probes++;
        if (!(await up())) missed.push(Date.now());
      }
    })();
    const i = await ct.installPackage(v2);
    upgrading = false;
    await prober;
    expect(i.code, i.stderr + i.stdout).to.equal(0);
    expect(i.stderr).to.include(`oob: ${unit} keeps running oob ${VERSION} until it restarts`);
    expect(probes).to.be.greaterThan(0);
    expect(missed, 'the banner did not answer during the upgrade').to.deep.equal([]);
    expect(await show('MainPID')).to.equal(pid);
    expect(await show('NRestarts')).to.equal('0');
    expect((await ct.exec(['systemctl', 'is-enabled', unit])).stdout.trim()).to.equal('enabled');
    expect((await ct.mustExec(['/usr/bin/oob', '--version'])).trim()).to.equal(V2);
  });

  it('remove from a session inside the plane is refused: the package, the plane and the banner stay', async () => {
    const r = await ct.exec(['ip', 'netns', 'exec', 'mgmt', 'dpkg', '-r', 'oob']);
    expect(r.code, r.stderr + r.stdout).to.not.equal(0);
    expect(r.stderr).to.match(/oob: refused: this removal runs inside the management plane "mgmt"/);
    // dpkg marks the selection "deinstall" after a refused removal; the state stays "installed"
    expect((await ct.mustExec(['dpkg-query', '-W', '-f', '${Status}', 'oob'])).trim()).to.match(/ ok installed$/);
    expect(await show('ActiveState')).to.equal('active');
    expect(await up(), 'the banner still answers').to.equal(true);
  });

  it('remove: the plane stops and host0 comes back; the profile and the enablement stay until purge', async () => {
    const r = await ct.exec(['dpkg', '-r', 'oob']);
    expect(r.code, r.stderr + r.stdout).to.equal(0);
    expect(await show('ActiveState')).to.equal('inactive');
    expect((await ct.exec(['ip', 'link', 'show', 'host0'])).code, 'host0 is back in the host namespace').to.equal(0);
    expect(existsSync(`${ct.merged}/usr/bin/oob`)).to.equal(false);
    expect(await ct.mustExec(['cat', '/etc/oob/profiles/mgmt.ini'])).to.match(/^nic = host0$/m);
    expect(await ct.mustExec(['sh', '-c', 'ls /etc/systemd/system/oob@mgmt.service.d/'])).to.equal('10-oob.conf\n');
  });

  it('purge: nothing of oob is left but the profiles', async () => {
    const r = await ct.exec(['dpkg', '-P', 'oob']);
    expect(r.code, r.stderr + r.stdout).to.equal(0);
    expect(
      (
        await ct.mustExec([
          'sh',
          '-c',
          'ls -d /etc/systemd/system/oob@* /etc/systemd/system/*/oob@* /etc/systemd/network/*oob* /etc/NetworkManager/conf.d/*oob* /var/cache/oob /var/lib/oob /usr/lib/oob /usr/lib/systemd/system/oob@.service 2>/dev/null; true',
        ])
      ).trim(),
    ).to.equal('');
    expect((await ct.exec(['dpkg-query', '-W', '-f', '${Status}', 'oob'])).stdout).not.to.match(/installed/);
    expect(await ct.mustExec(['ls', '/etc/oob/profiles'])).to.equal('mgmt.ini\n');
    expect(await show('LoadState')).to.equal('not-found');
  });
});
