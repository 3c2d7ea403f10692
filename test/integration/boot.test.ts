import { expect } from 'chai';
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { Container } from './container.js';
import { banner, isRoot, must, sh, waitFor } from './lab.js';

/** What a TCP connect from the container's own host namespace gets: a banner line, or the error code. */
const hostSide = (ct: Container, port: number) =>
  ct
    .exec([
      '/usr/bin/node',
      '-e',
      `const s=require('net').connect(${port},'127.0.0.1');s.setTimeout(2000,()=>{process.stdout.write('TIMEOUT');process.exit(0)});s.once('data',d=>{process.stdout.write(String(d).split('\\n')[0]);process.exit(0)});s.on('error',e=>{process.stdout.write(e.code);process.exit(0)})`,
    ])
    .then((r) => r.stdout.trim());

describe('integration: persistence with a real systemd booted in a container', function () {
  this.timeout(300_000);
  let ct: Container;
  let clientKey = '';
  /** A real ssh client in the management LAN, logging in with root's key. */
  const ssh = (cmd: string) =>
    sh([
      'ip',
      'netns',
      'exec',
      ct.lan,
      'ssh',
      '-i',
      clientKey,
      '-o',
      'BatchMode=yes',
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'UserKnownHostsFile=/dev/null',
      '-o',
      'LogLevel=ERROR',
      '-o',
      'ConnectTimeout=5',
      'root@10.20.30.1',
      cmd,
    ]);
  before(async function () {
    if (!isRoot()) {
      console.log('    SKIPPED: the boot tests need root');
      this.skip();
    }
    if (!Container.available())
      throw new Error('these tests need systemd-container (test/install-deps.sh installs it)');
    if (!existsSync('/usr/sbin/sshd'))
      throw new Error('these tests need openssh-server (test/install-deps.sh installs it)');
    for (const f of ['/lib/systemd/system/prometheus-node-exporter.service', '/lib/systemd/system/snmpd.service'])
      if (!existsSync(f))
        throw new Error(`${f} is missing: test/install-deps.sh installs prometheus-node-exporter and snmpd`);
    ct = await Container.create();
    // root's key for the login through the management plane (in the container's overlay only)
    clientKey = path.join(ct.dir, 'client_key');
    await must(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', clientKey]);
    await ct.write('/root/.ssh/authorized_keys', await fsp.readFile(`${clientKey}.pub`, 'utf8'), 0o600);
    const t0 = Date.now();
    await ct.boot();
    console.log(`      (first boot: ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    // SSH only through the management plane: the host's ssh.service (and the services copied
    // below) disabled and masked; nothing else prepares /run/sshd at boot
    const units = ['ssh.service', 'ssh.socket', 'snmpd.service', 'prometheus-node-exporter.service'];
    await ct.mustExec(['systemctl', 'disable', '--now', ...units]);
    await ct.mustExec(['systemctl', 'mask', ...units]);
    await ct.mustExec(['rm', '-rf', '/run/sshd']);
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
  const show = async (prop: string) =>
    (await ct.exec(['systemctl', 'show', '-P', prop, '--timestamp=us+utc', 'oob@mgmt.service'])).stdout.trim();
  const usec = (ts: string) => {
    const m = /(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.(\d{6}) UTC/.exec(ts);
    if (!m) throw new Error(`not a timestamp: ${ts}`);
    return Date.parse(`${m[1]!.replace(' ', 'T')}Z`) * 1000 + Number(m[2]);
  };

  it('oob enable --nic host0 --address --gateway, no profile written by hand: profile with an sshd copy, unit and drop-in, started, host0 in mgmt and sshd answers', async () => {
    expect((await ct.exec(['test', '-e', '/etc/oob/profiles/mgmt.ini'])).code).to.not.equal(0);
    // read before enable: once host0 is in mgmt, /sys/class/net/host0 is gone from the container's host
    const mac = (await ct.mustExec(['cat', '/sys/class/net/host0/address'])).trim();
    expect(mac).to.match(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
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
    // the package's template runs /usr/bin/oob; enable adds only the drop-in
    expect(r.stdout).not.to.match(/wrote \/etc\/systemd\/system\/oob@\.service/);
    expect(await ct.mustExec(['realpath', await show('FragmentPath')])).to.equal(
      '/usr/lib/systemd/system/oob@.service\n',
    );
    expect(await show('ExecStart')).to.match(/^\{ path=\/usr\/bin\/oob ; argv\[\]=\/usr\/bin\/oob run mgmt ;/);
    expect(r.stdout).to.match(/wrote \/etc\/systemd\/system\/oob@mgmt\.service\.d\/10-oob\.conf/);
    expect(r.stdout).to.match(/wrote \/etc\/systemd\/network\/05-oob-mgmt\.network/);
    expect(r.stdout).to.match(/oob@mgmt\.service enabled; active/);
    const profile = await ct.mustExec(['cat', '/etc/oob/profiles/mgmt.ini']);
    expect(profile)
      .to.match(/^nic = host0$/m)
      .and.match(/^address = 10\.20\.30\.1\/24$/m)
      .and.match(/^\[service\.sshd\]\npreset = sshd$/m);
    const rule = await ct.mustExec(['cat', '/etc/systemd/network/05-oob-mgmt.network']);
    expect(rule).to.match(/^Unmanaged=yes$/m);
    expect(rule).to.include(`MACAddress=${mac}`);
    expect(await active()).to.equal('active');
    expect(await ct.mustExec(['ip', '-n', 'mgmt', '-br', 'addr', 'show', 'host0'])).to.match(/10\.20\.30\.1\/24/);
    expect(
      await waitFor(
        'the banner',
        async () => ((await banner(ct.lan, '10.20.30.1', 22)).startsWith('SSH-') ? true : undefined),
        10_000,
      ),
    ).to.equal(true);
  });

  let secondsToBanner = 0;
  it('after a reboot, with no further command: active, host0 in mgmt with its address and route, the SSH banner answers', async () => {
    // and two Debian services copied into the plane, by a profile edit (enable leaves existing services alone)
    await ct.exec([
      'sh',
      '-c',
      'printf "\\n[service.node]\\nfrom = prometheus-node-exporter.service\\nready = tcp:9100\\n\\n[service.snmpd]\\nfrom = snmpd.service\\n" >> /etc/oob/profiles/mgmt.ini',
    ]);
    expect((await ct.oob(['check', 'mgmt'])).stdout).to.match(/ok .*3 service\(s\)/);
    await ct.reboot();
    const t = await waitFor(
      'the SSH banner after boot',
      async () => ((await banner(ct.lan, '10.20.30.1', 22)).startsWith('SSH-') ? Date.now() : undefined),
      60_000,
    );
    secondsToBanner = (t - ct.bootStartedAt) / 1000;
    console.log(`      (container start -> SSH banner answering in mgmt: ${secondsToBanner.toFixed(1)} s)`);
    expect(
      await waitFor(
        'the unit to be active',
        async () => ((await active()) === 'active' ? 'active' : undefined),
        60_000,
      ),
    ).to.equal('active');
    expect(await ct.mustExec(['ip', 'netns', 'list'])).to.match(/^mgmt/m);
    expect(await ct.mustExec(['ip', '-n', 'mgmt', '-br', 'addr', 'show', 'host0'])).to.match(/10\.20\.30\.1\/24/);
    expect(await ct.mustExec(['ip', '-n', 'mgmt', 'route', 'show', 'default'])).to.match(
      /default via 10\.20\.30\.20 dev host0/,
    );
    expect((await ct.exec(['ip', 'link', 'show', 'host0'])).code, 'host0 is still in the host namespace').not.to.equal(
      0,
    );
  });

  it('after the reboot: a real ssh login with a key through the management LAN lands in mgmt; nothing answers on port 22 on the host side', async () => {
    const r = await ssh('ip netns identify $$');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout.trim()).to.equal('mgmt');
    expect(await hostSide(ct, 22)).to.equal('ECONNREFUSED');
    expect((await ct.exec(['systemctl', 'is-enabled', 'ssh.service'])).stdout.trim()).to.equal('masked');
    expect(await ct.mustExec(['cat', '/run/oob/mgmt/sshd.pid'])).to.match(/^\d+\n?$/);
  });

  it("after the reboot: the from = copies answer inside mgmt (node exporter from the LAN, snmpd on mgmt's loopback), not on the host side", async () => {
    const get = `require('http').get('http://10.20.30.1:9100/metrics',r=>{let b='';r.on('data',d=>b+=d);r.on('end',()=>process.stdout.write(r.statusCode+' '+b.slice(0,20000)))}).on('error',e=>process.stdout.write(e.code)).setTimeout(3000,()=>{process.stdout.write('TIMEOUT');process.exit(0)})`;
    const metrics = await waitFor(
      'node exporter',
      async () => {
        const t = (await sh(['nsenter', `--net=/run/netns/${ct.lan}`, '--', process.execPath, '-e', get])).stdout;
        return t.startsWith('200 ') && t;
      },
      20_000,
    );
    expect(metrics).to.match(/^200 /).and.match(/node_/);
    expect(await hostSide(ct, 9100)).to.equal('ECONNREFUSED');
    const st = JSON.parse(await ct.mustExec(['cat', '/run/oob/mgmt/state.json']));
    expect(st.services.node.phase).to.equal('running');
    expect(st.services.snmpd.phase).to.equal('running');
    const snmpdNs = (await ct.mustExec(['ip', 'netns', 'identify', String(st.services.snmpd.pid)])).trim();
    expect(snmpdNs).to.equal('mgmt');
    expect((await ct.exec(['ss', '-Hlun', 'sport = :161'])).stdout.trim(), 'no snmpd on the host side').to.equal('');
    expect(await ct.mustExec(['ip', 'netns', 'exec', 'mgmt', 'ss', '-Hlun', 'sport = :161'])).to.match(
      /127\.0\.0\.1:161/,
    );
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
    await waitFor(
      'systemd to restart the unit',
      async () =>
        Number(await show('NRestarts')) >= 1 && (await active()) === 'active' && Number(await show('MainPID')) !== main,
      60_000,
    );
    expect(
      await waitFor(
        'the banner again',
        async () => ((await banner(ct.lan, '10.20.30.1', 22)).startsWith('SSH-') ? true : undefined),
        20_000,
      ),
    ).to.equal(true);
    const sshds = (
      await ct.exec(['pgrep', '-f', '-c', 'sshd -o PidFile=/run/oob/mgmt/sshd.pid .*listener'])
    ).stdout.trim();
    expect(sshds).to.equal('1');
  });

  it("oob disable --now, then a reboot: nothing of oob remains and host0 is back in the container's host namespace", async () => {
    const r = await ct.oob(['disable', 'mgmt', '--now']);
    expect(r.code, r.stderr + r.stdout).to.equal(0);
    expect((await ct.exec(['ip', 'link', 'show', 'host0'])).code).to.equal(0);
    await ct.reboot();
    expect((await ct.exec(['ip', 'link', 'show', 'host0'])).code).to.equal(0);
    expect((await ct.mustExec(['ip', 'netns', 'list'])).trim()).to.equal('');
    expect((await ct.exec(['systemctl', 'is-enabled', 'oob@mgmt.service'])).stdout.trim()).not.to.equal('enabled');
    expect(
      (
        await ct.mustExec([
          'sh',
          '-c',
          'ls /etc/systemd/system/oob@* /etc/systemd/system/*/oob@* /etc/systemd/network/*oob* /run/oob/* 2>/dev/null; true',
        ])
      ).trim(),
    ).to.equal('');
    expect(await ct.mustExec(['cat', '/etc/oob/profiles/mgmt.ini'])).to.match(/^nic = host0$/m); // the profile stays
  });
});
