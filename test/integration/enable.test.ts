import { expect } from 'chai';
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { enableInImage, ENS19, isRoot, Lab, makeImage, snapshot } from './lab.js';

describe('integration: enable, disable, units without a running systemd (--root, refusals)', function () {
  let lab: Lab;
  let img: string;
  before(function () {
    if (!isRoot()) {
      console.log('    SKIPPED: the enable tests need root (they create network namespaces)');
      this.skip();
    }
  });
  beforeEach(async () => {
    lab = await Lab.create();
    img = await makeImage(lab);
  });
  afterEach(async () => {
    await lab.destroy();
  });
  const files = async (dir: string) => {
    const out: string[] = [];
    const walk = async (d: string) => {
      for (const e of await fsp.readdir(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) await walk(p);
        else out.push(path.relative(dir, p));
      }
    };
    await walk(dir);
    return out.sort();
  };

  it('refuses plainly when systemd is not PID 1 and no --root is given (exit 13), writing nothing', async function () {
    if (existsSync('/run/systemd/system')) {
      console.log('      SKIPPED: this machine runs systemd as init, so there is no refusal to see');
      this.skip();
    }
    const r = await lab.oobInstalled(['enable', lab.profile, '--nic', lab.nic, '--address', '10.20.30.1/24']);
    expect(r.code).to.equal(13);
    expect(r.stderr).to.match(/^oob: systemd is not running as init \(PID 1\) on this machine: nothing was enabled/);
    expect(await fsp.readdir(lab.profileDir)).to.deep.equal([]);
    expect((await lab.oobInstalled(['disable', lab.profile])).code).to.equal(13);
  });

  it("--root writes profile, unit, drop-in and the wants link into an image; again keeps the profile's comments; disable --root removes all but the profile", async () => {
    const r = await lab.oobInstalled(enableInImage(img, ...ENS19, '--gateway', '10.20.30.20'));
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/oob@mgmt\.service enabled in .*; it starts at the next boot/);
    expect(await files(img)).to.include.members([
      'etc/oob/profiles/mgmt.ini',
      'etc/systemd/system/oob@.service',
      'etc/systemd/system/oob@mgmt.service.d/10-oob.conf',
    ]);
    expect(await fsp.readlink(path.join(img, 'etc/systemd/system/multi-user.target.wants/oob@mgmt.service'))).to.equal(
      '/etc/systemd/system/oob@.service',
    );
    const pf = path.join(img, 'etc/oob/profiles/mgmt.ini');
    expect((await fsp.stat(pf)).mode & 0o777).to.equal(0o600);
    await fsp.writeFile(pf, (await fsp.readFile(pf, 'utf8')) + '# my note\n[dns]\nnameserver = 10.20.30.53\n');
    const again = await lab.oobInstalled(enableInImage(img, '--gateway', '10.20.30.254'));
    expect(again.code, again.stderr).to.equal(0);
    const text = await fsp.readFile(pf, 'utf8');
    expect(text)
      .to.match(/^gateway = 10\.20\.30\.254$/m)
      .and.match(/^# my note$/m)
      .and.match(/^nameserver = 10\.20\.30\.53$/m)
      .and.match(/^nic = ens19$/m);
    const d = await lab.oobInstalled(['disable', 'mgmt', '--root', img]);
    expect(d.code, d.stderr).to.equal(0);
    expect(await files(img)).to.deep.equal(['etc/oob/profiles/mgmt.ini']);
  });

  it('an invalid profile name is a usage error (exit 2), before anything else is looked at', async () => {
    const r = await lab.oobInstalled(['enable', '../etc', '--root', img, '--nic', 'ens19']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/^oob: "\.\.\/etc" is not a valid profile\/namespace name/);
    expect(await files(img)).to.deep.equal([]);
  });

  it('a bad flag is refused with the profile line at fault (exit 3), writing nothing', async () => {
    const r = await lab.oobInstalled(enableInImage(img, ...ENS19, '--gateway', '192.168.1.1'));
    expect(r.code).to.equal(3);
    expect(r.stderr.split('\n')[0]).to.match(
      /^oob: \/etc\/oob\/profiles\/mgmt\.ini:\d+: \[interface\] gateway: 192\.168\.1\.1 is outside every configured subnet/,
    );
    expect(r.stderr).to.match(/nothing was written/);
    expect(await files(img)).to.deep.equal([]);
  });

  it("units prints what enable would write, adopting the NIC's live address and matching the NIC by MAC, writing nothing", async function () {
    if (!['/usr/lib/systemd/systemd-networkd', '/lib/systemd/systemd-networkd'].some((f) => existsSync(f))) {
      console.log(
        '      SKIPPED: without systemd-networkd there is no rule that matches the NIC by MAC (test/install-deps.sh installs systemd)',
      );
      this.skip();
    }
    // the host's own way out is another link (metric 100); the NIC has a backup default (metric 500)
    await lab.inHost(['ip', 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up1']);
    await lab.inHost(
      ['ip', '-batch', '-'],
      `addr add 192.0.2.2/24 dev up0\nlink set up0 up\nlink set up1 up\nroute add default via 192.0.2.1 metric 100\naddr add 10.20.30.1/24 dev ${lab.nic}\nlink set ${lab.nic} up\nroute add default via 10.20.30.20 dev ${lab.nic} metric 500\n`,
    );
    const mac = (await snapshot(lab.host)).links.find((l) => l.ifname === lab.nic)!.mac;
    const r = await lab.oobInstalled(['units', lab.profile, '--nic', lab.nic]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout)
      .to.match(/^address = 10\.20\.30\.1\/24$/m)
      .and.match(/^gateway = 10\.20\.30\.20$/m);
    expect(r.stdout).to.match(/# note: adopted .*10\.20\.30\.1\/24, gateway 10\.20\.30\.20/);
    expect(r.stdout).to.include(`MACAddress=${mac}`);
    expect(r.stdout).to.match(/^ExecStart=.* run %i$/m);
    expect(await fsp.readdir(lab.profileDir)).to.deep.equal([]);
  });

  it('units on a NIC whose IPv4 address is a DHCP lease (the kernel flags it dynamic) writes address = dhcp, not the lease', async () => {
    // the host's own way out is another link; the NIC's leased default route is a backup (metric 500)
    await lab.inHost(['ip', 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up1']);
    await lab.inHost(
      ['ip', '-batch', '-'],
      `addr add 192.0.2.2/24 dev up0\nlink set up0 up\nlink set up1 up\nroute add default via 192.0.2.1 metric 100\naddr add 10.20.30.7/24 dev ${lab.nic} valid_lft 300 preferred_lft 300\naddr add 2001:db8:30::7/64 dev ${lab.nic} nodad\nlink set ${lab.nic} up\nroute add default via 10.20.30.20 dev ${lab.nic} proto dhcp metric 500\n`,
    );
    const r = await lab.oobInstalled(['units', lab.profile, '--nic', lab.nic]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^address = dhcp, 2001:db8:30::7\/64$/m);
    expect(r.stdout).not.to.match(/^gateway = /m);
    expect(r.stdout).not.to.include('10.20.30.7');
    expect(await fsp.readdir(lab.profileDir)).to.deep.equal([]);
  });
});
