// Service presets and copies of installed units, with the real daemons: sshd (preset), Debian's
// prometheus-node-exporter and snmpd (from = UNIT.service), each answering inside the namespace and
// not on the host side; bad presets and units a copy cannot honour: one line, exit 3, nothing started.
import { expect } from 'chai';
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { banner, CLI, enableInImage, ENS19, Lab, makeImage, must, needSshd, sh, waitFor } from './lab.js';

/** An SNMPv2c GET of sysDescr.0 with community "public", sent from inside `ns`; the reply's text, or TIMEOUT. */
async function snmpSysDescr(ns: string, addr: string): Promise<string> {
  const code = `const d=require('dgram').createSocket('udp4');const p=Buffer.from('302602010104067075626c6963a01902010102010002010030\
0e300c06082b060102010101000500','hex');d.on('message',m=>{process.stdout.write(m.toString('latin1'));process.exit(0)});\
setTimeout(()=>{process.stdout.write('TIMEOUT');process.exit(0)},3000);d.send(p,161,${JSON.stringify(addr)})`;
  return (await sh(['nsenter', `--net=/run/netns/${ns}`, '--', process.execPath, '-e', code])).stdout;
}

async function httpGet(ns: string, url: string): Promise<string> {
  const code = `require('http').get(${JSON.stringify(url)},r=>{let b='';r.on('data',d=>b+=d);r.on('end',()=>process.stdout.write(r.statusCode+' '+b.slice(0,20000)))}).on('error',e=>process.stdout.write(e.code)).setTimeout(3000,()=>{process.stdout.write('TIMEOUT');process.exit(0)})`;
  return (await sh(['nsenter', `--net=/run/netns/${ns}`, '--', process.execPath, '-e', code])).stdout;
}

describe('integration: service presets and copies of installed units', function () {
  needSshd('the preset tests');
  let lab: Lab;
  const made: string[] = [];
  beforeEach(async () => {
    lab = await Lab.create();
  });
  afterEach(async () => {
    await lab.oob(['stop', lab.profile]);
    await lab.destroy();
  });
  after(async () => {
    for (const d of made) await fsp.rm(d, { recursive: true, force: true });
  });
  const state = async () =>
    JSON.parse(await fsp.readFile(path.join(lab.runtimeDir, lab.profile, 'state.json'), 'utf8'));

  it("preset = sshd: the host's sshd_config and keys, its own pidfile under the runtime directory, answering on the management address only", async () => {
    await lab.writeProfile(lab.seedProfile('[service.sshd]\npreset = sshd\n'));
    const r = await lab.oob(['start', lab.profile]);
    expect(r.code, r.stderr).to.equal(0);
    const st = await state();
    const pidfile = path.join(lab.runtimeDir, lab.profile, 'sshd.pid');
    expect(Number((await fsp.readFile(pidfile, 'utf8')).trim())).to.equal(st.services.sshd.pid);
    expect(await banner(lab.router, '10.20.30.1', 22)).to.match(/^SSH-2\.0-OpenSSH/);
    expect(await banner(lab.host, '127.0.0.1', 22)).to.equal('ECONNREFUSED');
    expect(existsSync('/run/sshd')).to.equal(true);
  });

  it('preset = sshd with args: a key login through the management LAN lands in the namespace', async () => {
    await lab.makeHostKey();
    const ck = path.join(lab.dir, 'client');
    await must(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', ck]);
    await fsp.copyFile(`${ck}.pub`, path.join(lab.dir, 'authorized_keys'));
    const cfg = path.join(lab.dir, 'sshd_config');
    await fsp.writeFile(
      cfg,
      `HostKey ${lab.hostKey}\nAuthorizedKeysFile ${lab.dir}/authorized_keys\nPermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n`,
    );
    await lab.writeProfile(lab.seedProfile(`[service.sshd]\npreset = sshd\nargs = -f ${cfg}\n`));
    const r = await lab.oob(['start', lab.profile]);
    expect(r.code, r.stderr).to.equal(0);
    const login = await sh([
      'ip',
      'netns',
      'exec',
      lab.router,
      'ssh',
      '-i',
      ck,
      '-o',
      'BatchMode=yes',
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'UserKnownHostsFile=/dev/null',
      '-o',
      'ConnectTimeout=5',
      'root@10.20.30.1',
      'ip netns identify $$',
    ]);
    expect(login.code, login.stderr).to.equal(0);
    expect(login.stdout.trim()).to.equal(lab.profile);
  });

  it('an sshd config error: one line from sshd -t, the copy failed and not restarted in a loop', async () => {
    await lab.writeProfile(lab.seedProfile('[service.sshd]\npreset = sshd\nargs = -o NoSuchOption=1\n'));
    await lab.oob(['start', lab.profile, '--timeout', '3']);
    const st = await waitFor('sshd to fail', async () => {
      const s = await state().catch(() => undefined);
      return s?.services.sshd.phase === 'failed' && s;
    });
    expect(st.services.sshd.error).to.match(
      /^pre-start check failed: \/usr\/sbin\/sshd -t .*NoSuchOption.*: .*(Bad configuration option|unsupported option).*NoSuchOption/i,
    );
    expect(st.services.sshd.restarts).to.equal(0);
    expect(st.services.sshd.pid).to.equal(undefined);
  });

  it('an unknown preset: one line naming it, exit 3, nothing started', async () => {
    await lab.writeProfile(lab.seedProfile('[service.sshd]\npreset = sshdd\n'));
    const r = await lab.oob(['start', lab.profile]);
    expect(r.code).to.equal(3);
    expect(r.stderr.split('\n')[0]).to.match(
      /^oob: .*:8: \[service\.sshd\] preset: unknown preset "sshdd" \(did you mean "sshd"\?\): the presets are sshd/,
    );
    expect(await lab.namespaces()).to.not.include(lab.profile);
  });

  it('from = a unit a copy cannot honour (Type=oneshot): one line naming the setting, exit 3, nothing started', async () => {
    await lab.writeProfile(lab.seedProfile('[service.tmp]\nfrom = systemd-tmpfiles-setup.service\n'));
    const r = await lab.oob(['start', lab.profile]);
    expect(r.code).to.equal(3);
    expect(r.stderr.split('\n')[0]).to.match(
      /^oob: .*:8: \[service\.tmp\] from: systemd-tmpfiles-setup\.service: Type=oneshot \(\/lib\/systemd\/system\/systemd-tmpfiles-setup\.service:\d+\) is not a long-running daemon/,
    );
    expect(await lab.namespaces()).to.not.include(lab.profile);
  });

  it("oob exec NAME without a command opens the user's shell inside the namespace", async () => {
    await lab.writeProfile(lab.seedProfile());
    expect((await lab.oob(['up', lab.profile])).code).to.equal(0);
    const r = await sh(
      ['/usr/bin/nsenter', `--net=/run/netns/${lab.host}`, '--', process.execPath, CLI, 'exec', lab.profile],
      { env: lab.env({ SHELL: '/bin/sh' }), input: 'ip netns identify $$; exit 7\n' },
    );
    expect(r.stdout.trim()).to.equal(lab.profile);
    expect(r.code).to.equal(7);
    expect((await lab.oob(['down', lab.profile])).code).to.equal(0);
  });

  it('enable --root: a profile without services gets an sshd copy; --no-services none; --service picks; a bad one or a unit the image lacks: exit 3, nothing written', async () => {
    const img = await makeImage(lab);
    const pf = path.join(img, 'etc/oob/profiles/mgmt.ini');
    const enable = (...extra: string[]) => lab.oobInstalled(enableInImage(img, ...ENS19, ...extra));
    const bad = await enable('--service', 'telnetd');
    expect(bad.code).to.equal(3);
    expect(bad.stderr.split('\n')[0]).to.match(/^oob: --service telnetd: not a preset \(sshd: see oob presets\)/);
    const missing = await enable('--service', 'snmpd.service');
    expect(missing.code).to.equal(3);
    expect(missing.stderr.split('\n')[0]).to.match(
      /^oob: \/etc\/oob\/profiles\/mgmt\.ini:\d+: \[service\.snmpd\] from: snmpd\.service is not installed \(no unit file in .* under /,
    );
    expect(missing.stderr).to.match(/nothing was written/);
    expect(existsSync(pf)).to.equal(false);
    const none = await enable('--no-services');
    expect(none.code, none.stderr).to.equal(0);
    expect(await fsp.readFile(pf, 'utf8')).to.not.match(/\[service\./);
    await fsp.rm(pf);
    const r = await enable();
    expect(r.code, r.stderr).to.equal(0);
    expect(await fsp.readFile(pf, 'utf8')).to.match(/^\[service\.sshd\]\npreset = sshd$/m);
    // an existing profile's services are left alone
    await fsp.writeFile(
      pf,
      (await fsp.readFile(pf, 'utf8')).replace('preset = sshd', 'preset = sshd\nargs = -o Port=2222'),
    );
    expect((await enable('--service', 'sshd', '--gateway', '10.20.30.20')).code).to.equal(0);
    expect((await fsp.readFile(pf, 'utf8')).match(/\[service\./g)).to.have.length(1);
    expect(await fsp.readFile(pf, 'utf8')).to.match(/^args = -o Port=2222$/m);
  });

  describe('Debian services copied into the namespace', function () {
    before(function () {
      for (const f of ['/lib/systemd/system/prometheus-node-exporter.service', '/lib/systemd/system/snmpd.service'])
        if (!existsSync(f))
          throw new Error(`${f} is missing: test/install-deps.sh installs prometheus-node-exporter and snmpd`);
      for (const d of ['/run/agentx']) if (!existsSync(d)) made.push(d);
    });

    it('from = prometheus-node-exporter.service: runs as its User=, answers :9100 from the management LAN, nothing on the host side', async () => {
      await lab.writeProfile(
        lab.seedProfile('[service.node]\nfrom = prometheus-node-exporter.service\nready = tcp:9100\n'),
      );
      const r = await lab.oobInstalled(['start', lab.profile]);
      expect(r.code, r.stderr).to.equal(0);
      const body = await httpGet(lab.router, 'http://10.20.30.1:9100/metrics');
      expect(body).to.match(/^200 /).and.match(/node_/);
      expect(await httpGet(lab.host, 'http://127.0.0.1:9100/metrics')).to.equal('ECONNREFUSED');
      const pid = (await state()).services.node.pid;
      const uid = /^Uid:\s+(\d+)/m.exec(await fsp.readFile(`/proc/${pid}/status`, 'utf8'))![1];
      expect(uid).to.equal((await must(['id', '-u', 'prometheus'])).trim());
    });

    it('from = snmpd.service: its RuntimeDirectory made, answers SNMP inside the namespace, not on the host side', async () => {
      await lab.writeProfile(lab.seedProfile('[service.snmpd]\nfrom = snmpd.service\n'));
      const r = await lab.oobInstalled(['start', lab.profile]);
      expect(r.code, r.stderr).to.equal(0);
      // Debian's snmpd.conf listens on loopback: the namespace's own
      const reply = await waitFor('snmpd to answer', async () => {
        const t = await snmpSysDescr(lab.profile, '127.0.0.1');
        return t !== 'TIMEOUT' && t;
      });
      expect(reply).to.include('public').and.include('Linux');
      expect(await snmpSysDescr(lab.host, '127.0.0.1')).to.equal('TIMEOUT');
      expect(existsSync('/run/agentx')).to.equal(true);
    });
  });
});
