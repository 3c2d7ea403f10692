// Hostile and broken input through the real CLI, in a lab namespace: one clear line (or a few), a
// distinct exit code, no raw control character on the terminal, nothing changed on the system.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { isRoot, Lab, linkFacts, snapshot, type Result } from './lab.js';

describe('integration: hostile input changes nothing', function () {
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
  const hostFacts = async () => {
    const s = await snapshot(lab.host);
    return { links: s.links.map(linkFacts), routes: s.routes.length, namespaces: await lab.namespaces() };
  };
  const clean = (r: Result) =>
    expect(r.stdout + r.stderr, 'no raw control character reaches the terminal').not.to.match(
      /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/,
    );

  it('oob enable cannot write a section or a key through a flag value (exit 2, nothing written)', async () => {
    const img = path.join(lab.dir, 'image');
    await fsp.mkdir(path.join(img, 'etc/oob/profiles'), { recursive: true, mode: 0o700 });
    const evil = ['--nic', 'ens19\n[service.evil]\nexec = /usr/bin/touch /tmp/oob-pwned', '--address', '10.20.30.1/24'];
    for (const args of [
      evil,
      ['--nic', 'ens19', '--address', '10.20.30.1/24 ; 10.9.9.9/8'],
      ['--nic', 'ens19', '--address', '10.20.30.1/24', '--gateway', '10.20.30.20#x'],
    ]) {
      const r = await lab.oob(['--profile-dir', '/etc/oob/profiles', 'enable', 'mgmt', '--root', img, ...args]);
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr.trim().split('\n')).to.have.length(1);
      expect(r.stderr).to.match(
        /^oob: (nic|address|gateway) ".*: give a plain value \(an address, a NIC name, a MAC\); nothing was written\n$/,
      );
      clean(r);
    }
    expect(await fsp.readdir(path.join(img, 'etc/oob/profiles'))).to.deep.equal([]);
    expect(existsSync(path.join(img, 'etc/systemd'))).to.equal(false);
  });

  it('a FIFO as profile: up and status answer at once (exit 5), no one needs to write to it', async () => {
    execFileSync('mkfifo', ['-m', '600', path.join(lab.profileDir, `${lab.profile}.ini`)]);
    const before = await hostFacts();
    const up = await lab.oob(['up', lab.profile]);
    expect(up.code, up.stderr).to.equal(5);
    expect(up.stderr).to.match(/: a FIFO, not a regular file: a profile is a plain text file; put one there\n$/);
    const st = await lab.oob(['status', '--json', lab.profile]);
    expect(JSON.parse(st.stdout).profiles[0].profile.error).to.match(/a FIFO, not a regular file/);
    expect(await hostFacts()).to.deep.equal(before);
  });

  it('a profile in a directory others can write is refused with the fix (exit 5), nothing changed', async () => {
    await lab.writeProfile(lab.seedProfile());
    await fsp.chmod(lab.profileDir, 0o777);
    const before = await hostFacts();
    const r = await lab.oob(['up', lab.profile]);
    expect(r.code, r.stderr).to.equal(5);
    expect(r.stderr).to.equal(
      `oob: ${lab.profileDir}: writable by everyone (mode 777): another user could replace the profiles below it, whose commands run as root; fix with: chmod go-w ${lab.profileDir}\n`,
    );
    expect(await hostFacts()).to.deep.equal(before);
  });

  it('a huge or binary file as profile: a line or two (exit 3), no raw byte of it, nothing changed', async () => {
    const before = await hostFacts();
    await lab.writeProfile('x\u001b[2J\n'.repeat(1_000_000));
    const huge = await lab.oob(['check', lab.profile]);
    expect(huge.code).to.equal(3);
    expect(huge.stderr.trim().split('\n').length).to.be.at.most(2);
    clean(huge);
    await lab.writeProfile(`[interface]\nnic = ${lab.nic}\n\u001b]0;x\u0007\u0000\u00ff\n`);
    const bin = await lab.oob(['up', lab.profile]);
    expect(bin.code).to.equal(3);
    expect(bin.stderr).to.match(/a binary file \(a NUL byte at offset \d+\)/);
    clean(bin);
    await lab.writeProfile(`[interface]\nnic = ${lab.nic}\n${'\u001b[31mjunk\n'.repeat(5000)}`);
    const junk = await lab.oob(['up', lab.profile]);
    expect(junk.code).to.equal(3);
    expect(junk.stderr.trim().split('\n').length).to.be.at.most(12);
    expect(junk.stderr).to.match(/\\x1b\[31mjunk/);
    clean(junk);
    expect(await hostFacts()).to.deep.equal(before);
  });

  it('a gateway on the network or broadcast address, a /0, a ";" cut out of exec: one line each (exit 3), nothing changed', async () => {
    const before = await hostFacts();
    await lab.writeProfile(
      `[interface]\nnic = ${lab.nic}\naddress = 10.20.30.1/24, 10.20.31.1/0\ngateway = 10.20.30.255\n[service.x]\nexec = /bin/sh -c 'sleep 1; true'\n`,
    );
    const r = await lab.oob(['up', lab.profile]);
    expect(r.code, r.stderr).to.equal(3);
    const f = path.join(lab.profileDir, `${lab.profile}.ini`);
    expect(r.stderr.trim().split('\n')).to.deep.equal([
      `oob: ${f}:3: [interface] address: 10.20.31.1/0: a /0 prefix makes every address on-link: give the subnet's real prefix, e.g. 10.20.31.1/24`,
      `  ${f}:4: [interface] gateway: 10.20.30.255 is the broadcast address of 10.20.30.0/24, not a router's: give the router's own address`,
      `  ${f}:6: [service.x] exec: the ";" at column 27 starts an INI comment, which cuts the value to "/bin/sh -c 'sleep 1": write each ";" and "#" that belongs to the value as \\; and \\#`,
    ]);
    expect(await hostFacts()).to.deep.equal(before);
  });

  it('two profiles on one NIC, by name and by MAC: check flags it (exit 3), up of both exits 2 and changes nothing', async () => {
    const mac = (JSON.parse(await lab.inHost(['ip', '-j', 'link', 'show', lab.nic])) as Array<{ address: string }>)[0]!
      .address;
    // names of the lab's, which its destroy() removes if a bug ever made them namespaces
    const [a, b] = [`${lab.profile}a`, `${lab.profile}b`];
    lab.extraNs.push(a, b);
    await lab.writeProfile(`[interface]\nnic = ${lab.nic}\naddress = 10.20.30.1/24\n`, { name: a });
    await lab.writeProfile(`[interface]\nnic = mac:${mac}\naddress = 10.20.30.2/24\n`, { name: b });
    const before = await hostFacts();
    const check = await lab.oob(['check']);
    expect(check.code, check.stderr).to.equal(3);
    const line = `${path.join(lab.profileDir, `${b}.ini`)}: [interface] nic: ${b} (nic = mac:${mac}) and ${a} (nic = ${lab.nic}) select the same NIC (${lab.nic}, MAC ${mac}): a NIC can serve one profile; change nic = in one of them`;
    expect(check.stderr).to.include(`${line}\n`);
    const up = await lab.oob(['up', a, b]);
    expect(up.code, up.stderr).to.equal(2);
    expect(up.stderr).to.equal(`oob: ${line}\n`);
    expect(await hostFacts()).to.deep.equal(before);
  });
});
