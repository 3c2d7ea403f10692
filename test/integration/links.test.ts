// The seed's bridge picture as profiles, inside the lab's host namespace: red and blue each with a
// veth whose host end is a port of bridge v-net-0 (oob's, shared), the host on it at .5, extra
// routes; converges, is idempotent, rolls back, and down leaves nothing behind.
import { expect } from 'chai';
import { ipFailingOnLine } from './faults.js';
import { ask, isRoot, Lab, listen, must, snapshot } from './lab.js';

const PORT = 7120;

describe('integration: veth links, a shared bridge and extra routes', function () {
  let lab: Lab;
  let red = '';
  let blue = '';
  let nic2 = '';
  before(function () {
    if (!isRoot()) {
      console.log('    SKIPPED: the integration tests need root (they create network namespaces)');
      this.skip();
    }
  });
  beforeEach(async () => {
    lab = await Lab.create();
    red = `${lab.profile}r`;
    blue = `${lab.profile}b`;
    nic2 = `${lab.nic}2`;
    await lab.inHost(['ip', 'link', 'add', nic2, 'type', 'veth', 'peer', 'name', 'r1', 'netns', lab.router]);
    await must(['ip', '-n', lab.router, 'link', 'set', 'r1', 'up']);
  });
  afterEach(async () => {
    await lab?.destroy();
    expect(await lab.namespaces(), 'the lab left namespaces behind').to.deep.equal([]);
  });

  const profiles = async () => {
    await lab.writeProfile(
      `[interface]\nnic = ${lab.nic}\naddress = 10.20.30.1/24\n` +
        `[veth]\nname = veth-red\nhost-name = veth-red-br\naddress = 192.168.15.1/24\nbridge = v-net-0\nbridge-address = 192.168.15.5/24\n`,
      { name: red },
    );
    await lab.writeProfile(
      `[interface]\nnic = ${nic2}\naddress = 10.20.31.1/24\n` +
        `[veth]\nname = veth-blue\nhost-name = veth-blue-br\naddress = 192.168.15.2/24\nbridge = v-net-0\nbridge-address = 192.168.15.5/24\n` +
        `[routes]\nnamespace = 192.168.1.0/24 via 192.168.15.5\nhost = 10.99.0.0/16 via 192.168.15.2\n`,
      { name: blue },
    );
  };
  const hostFacts = async () => {
    const s = await snapshot(lab.host);
    return {
      links: s.links.map((l) => `${l.ifname} ${l.up ? 'up' : 'down'} ${l.master ?? '-'}`).sort(),
      routes: s.routes.map((r) => `${r.dst} ${r.gateway ?? '-'} ${r.dev ?? '-'} ${r.table}`).sort(),
    };
  };

  it('red and blue on bridge v-net-0: one call, reachable, idempotent, down removes the bridge with its last port', async () => {
    await profiles();
    const before = await hostFacts();
    const plan = await lab.oob(['plan', red]);
    expect(plan.code, plan.stderr).to.equal(0);
    expect(plan.stdout).to.include('link add v-net-0 type bridge    # create bridge v-net-0 in the host');
    expect(plan.stdout).to.include('link add veth-red-br type veth peer name veth-red netns');

    const up = await lab.oob(['up', red, blue]);
    expect(up.code, up.stderr).to.equal(0);
    const host = await snapshot(lab.host);
    const link = (n: string) => host.links.find((l) => l.ifname === n);
    expect(link('v-net-0')?.alias).to.equal('oob-bridge:v-net-0');
    expect(link('v-net-0')?.up).to.equal(true);
    expect(link('v-net-0')?.addrs.map((a) => `${a.local}/${a.prefixlen}`)).to.include('192.168.15.5/24');
    expect(link('veth-red-br')?.master).to.equal('v-net-0');
    expect(link('veth-blue-br')?.master).to.equal('v-net-0');
    expect(host.routes.some((r) => r.dst === '10.99.0.0/16' && r.gateway === '192.168.15.2')).to.equal(true);
    const blueNs = await snapshot(blue);
    expect(blueNs.links.find((l) => l.ifname === 'veth-blue')?.up).to.equal(true);
    expect(blueNs.routes.some((r) => r.dst === '192.168.1.0/24' && r.gateway === '192.168.15.5')).to.equal(true);

    for (const p of [red, blue]) {
      const st = await lab.oob(['status', p]);
      expect(st.code, `${st.stdout}${st.stderr}`).to.equal(0);
    }

    // red reaches blue through the bridge, and the host reaches blue at its address on it
    await listen(blue, '192.168.15.2', PORT, 'blue');
    expect(await ask(red, '192.168.15.2', PORT)).to.equal('blue');
    expect(await ask(lab.host, '192.168.15.2', PORT)).to.equal('blue');

    for (const p of [red, blue]) {
      const again = await lab.oob(['plan', p]);
      expect(again.code, again.stderr).to.equal(0);
      expect(again.stdout).to.include('nothing to do');
    }

    // red goes: the bridge stays for blue
    const downRed = await lab.oob(['down', red]);
    expect(downRed.code, downRed.stderr).to.equal(0);
    const mid = await snapshot(lab.host);
    expect(mid.links.map((l) => l.ifname))
      .to.include('v-net-0')
      .and.not.include('veth-red-br');
    const downBlue = await lab.oob(['down', blue]);
    expect(downBlue.code, downBlue.stderr).to.equal(0);
    expect(await hostFacts()).to.deep.equal(before);
  });

  it('doctor: each item broken by hand is a FAIL with its fix, and up repairs it', async () => {
    await profiles();
    expect((await lab.oob(['up', red, blue])).code).to.equal(0);
    const doctor = async () => (await lab.oob(['doctor', blue])).stdout;
    const healthy = await doctor();
    expect(healthy).to.match(/^PASS {2}veth created +veth-blue-br \(host\) - veth-blue/m);
    expect(healthy).to.match(/^PASS {2}bridge up +v-net-0 up/m);
    expect(healthy).to.match(/^PASS {2}routing configured +2 extra route/m);
    expect(healthy).not.to.match(/^FAIL/m);
    const broken: [string[], RegExp][] = [
      [
        ['ip', '-n', blue, 'link', 'set', 'veth-blue', 'down'],
        /^FAIL {2}veth up +veth-blue \(.*\) administratively down/m,
      ],
      [['ip', 'link', 'set', 'v-net-0', 'down'], /^FAIL {2}bridge up +v-net-0 is administratively down/m],
      [
        ['ip', '-n', blue, 'route', 'del', '192.168.1.0/24'],
        /^FAIL {2}routing configured +missing: 192\.168\.1\.0\/24 via 192\.168\.15\.5/m,
      ],
      [['ip', 'link', 'del', 'veth-blue-br'], /^FAIL {2}veth created +no veth-blue-br in the host/m],
    ];
    for (const [cmd, want] of broken) {
      if (cmd[0] === 'ip' && cmd[1] === '-n') await must(cmd);
      else await lab.inHost(cmd);
      expect(await doctor()).to.match(want);
      const fix = await lab.oob(['up', blue]);
      expect(fix.code, fix.stderr).to.equal(0);
      expect(await doctor()).not.to.match(/^FAIL/m);
    }
    expect((await lab.oob(['down', red, blue])).code).to.equal(0);
  });

  it('down of both in one call removes the bridge too', async () => {
    await profiles();
    const before = await hostFacts();
    expect((await lab.oob(['up', red, blue])).code).to.equal(0);
    const down = await lab.oob(['down', red, blue]);
    expect(down.code, down.stderr).to.equal(0);
    expect(await hostFacts()).to.deep.equal(before);
  });

  it('a failure at a link step rolls everything back', async () => {
    await profiles();
    const before = await hostFacts();
    const failed = await lab.oob(['up', red, blue], {
      PATH: `${await ipFailingOnLine(lab, 'route replace 192.168.1.0/24 via 192.168.15.5')}:${process.env.PATH}`,
    });
    expect(failed.code, failed.stderr).to.equal(10);
    expect(failed.stderr).to.match(/rolled back/);
    expect(await hostFacts()).to.deep.equal(before);
    expect(await lab.namespaces())
      .to.not.include(red)
      .and.not.include(blue);
  });

  it('refuses a bridge name taken by a link oob did not create, changing nothing', async () => {
    await profiles();
    await lab.inHost(['ip', 'link', 'add', 'v-net-0', 'type', 'bridge']);
    const before = await hostFacts();
    const r = await lab.oob(['up', red]);
    expect(r.code).to.equal(7);
    expect(r.stderr).to.match(/bridge: v-net-0 is a link in the host that oob did not create/);
    expect(await hostFacts()).to.deep.equal(before);
  });

  it('refuses bad [veth] and [routes] with one line each, file:line [section] key, exit 3', async () => {
    const f = await lab.writeProfile(
      `[interface]\nnic = ${lab.nic}\naddress = 192.168.15.9/24\n` +
        `[veth]\nname = veth-red\nhost-name = vh\naddress = 192.168.15.1/24\nhost-address = 192.168.15.6/24\nbridge = v-net-0\n` +
        `[routes]\nhost = 10.99.0.0/16 via 192.168.15.77\n`,
    );
    const r = await lab.oob(['up', lab.profile]);
    expect(r.code).to.equal(3);
    const lines = r.stderr.trim().split('\n');
    expect(lines).to.have.length(3);
    expect(r.stderr).to.include(`${f}:8: [veth] host-address: the host end is a port of bridge v-net-0`);
    expect(r.stderr).to.include(`${f}:7: [veth] address: 192.168.15.1/24 overlaps the NIC's subnet 192.168.15.0/24`);
    expect(r.stderr).to.include(`${f}:11: [routes] host: 10.99.0.0/16 via 192.168.15.77: a host route goes through`);
  });

  it('refuses an interface name longer than 15 bytes', async () => {
    const f = await lab.writeProfile(
      `[interface]\nnic = ${lab.nic}\n[veth]\nname = veth-with-a-long-name\nhost-name = vh\n`,
    );
    const r = await lab.oob(['up', lab.profile]);
    expect(r.code).to.equal(3);
    expect(r.stderr.trim()).to.equal(
      `oob: ${f}:4: [veth] name: "veth-with-a-long-name" is 21 bytes long; Linux interface names are at most 15 bytes`,
    );
  });
});
