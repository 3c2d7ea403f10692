// The namespace tutorial's network, end to end, from the shipped profiles (profiles/tutorial/*.ini)
// with no NIC at all: inside a throw-away namespace that plays the host (its uplink eth0 at
// 192.168.1.2/24 exists in that namespace only, facing a "LAN" namespace at 192.168.1.1/24), `oob up
// red blue` in one call brings the seed's picture up: red and blue on bridge v-net-0, the host at
// .5 on it; blue's way out masqueraded through eth0 and the host's TCP port 80 forwarded to blue;
// down of both (in any order) leaves no link, bridge, namespace, nftables table, sysctl change or record.
// The profiles are copied under the lab's own names (namespaces are machine-wide), unchanged.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { listeningPortsOf } from '../../src/sys/proc.js';
import { until } from '../../src/sys/until.js';
import { ask, isRoot, Lab, listen, must, sh, snapshot } from './lab.js';

const PORT = 7150;
const TUTORIAL = new URL('../../../profiles/tutorial/', import.meta.url);

/** A listener that answers with the address the connection came from: what the LAN sees. */
async function listenPeer(ns: string, addr: string, port: number): Promise<void> {
  const code = `require('net').createServer(s=>s.end(s.remoteAddress)).listen(${port},${JSON.stringify(addr)})`;
  const c = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { detached: true, stdio: 'ignore' });
  c.unref();
  const up = await until(async () => (await listeningPortsOf(c.pid!))?.includes(port), {
    intervalMs: 30,
    timeoutMs: 5000,
  });
  if (!up) throw new Error(`listener in ${ns} did not start`);
}

describe('integration: the tutorial network (red, blue, v-net-0) from profiles/tutorial, without a NIC', function () {
  let lab: Lab;
  let red = '';
  let blue = '';
  let lan = '';
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
    lan = await lab.addNs('lan');
    // the host's uplink eth0, in the lab's host namespace only, facing the LAN's gateway
    await lab.inHost(['ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'lan0', 'netns', lan]);
    await lab.inHost(['ip', 'addr', 'add', '192.168.1.2/24', 'dev', 'eth0']);
    await lab.inHost(['ip', 'link', 'set', 'eth0', 'up']);
    await must(
      ['ip', '-n', lan, '-batch', '-'],
      'link set lo up\naddr add 192.168.1.1/24 dev lan0\nlink set lan0 up\n',
    );
    for (const [name, file] of [
      [red, 'red.ini'],
      [blue, 'blue.ini'],
    ] as const)
      await lab.writeProfile(await fsp.readFile(new URL(file, TUTORIAL), 'utf8'), { name });
  });
  afterEach(async () => {
    await lab?.destroy();
    expect(await lab.namespaces(), 'the lab left namespaces behind').to.deep.equal([]);
  });

  const hostFacts = async () => {
    const s = await snapshot(lab.host);
    return {
      links: s.links.map((l) => `${l.ifname} ${l.up ? 'up' : 'down'} ${l.master ?? '-'} ${l.alias ?? '-'}`).sort(),
      // (not the kernel's IPv6 link-local ones, which come and go with DAD on their own time)
      addrs: s.links
        .flatMap((l) => l.addrs.filter((a) => a.scope !== 'link').map((a) => `${l.ifname} ${a.local}/${a.prefixlen}`))
        .sort(),
      routes: s.routes
        .filter((r) => !r.dst.startsWith('fe80'))
        .map((r) => `${r.dst} ${r.gateway ?? '-'} ${r.dev ?? '-'} ${r.table}`)
        .sort(),
      // the host's nftables tables and its forwarding: oob's NAT changes both while up
      nft: (await lab.inHost(['nft', 'list', 'tables'])).trim(),
      forward: (await lab.inHost(['sysctl', '-n', 'net.ipv4.ip_forward'])).trim(),
    };
  };
  const records = async () =>
    (await fsp.readdir(lab.runtimeDir, { recursive: true }).catch(() => [] as string[])).filter((f) =>
      f.endsWith('.json'),
    );

  it('up red blue in one call: red reaches blue, the host reaches both, NAT out, port 80 in; down leaves nothing', async () => {
    const before = await hostFacts();
    const plan = await lab.oob(['plan', red]);
    expect(plan.code, plan.stderr).to.equal(0);
    expect(plan.stdout).to.include(`ip netns add ${red}`);
    expect(plan.stdout).not.to.match(/nic\.json| netns \d+/);

    const up = await lab.oob(['up', red, blue]);
    expect(up.code, up.stderr).to.equal(0);
    expect(up.stdout).to.include(`${blue}: up: no NIC, veth veth-blue in namespace ${blue}, 192.168.15.2/24`);
    expect((await records()).sort()).to.deep.equal([`${blue}/nat.json`, `${blue}/netns.json`, `${red}/netns.json`]);
    const host = await snapshot(lab.host);
    const link = (n: string) => host.links.find((l) => l.ifname === n);
    const global = (n: string) =>
      link(n)
        ?.addrs.filter((a) => a.scope === 'global')
        .map((a) => `${a.local}/${a.prefixlen}`);
    expect(global('v-net-0')).to.deep.equal(['192.168.15.5/24']);
    expect(link('veth-red-br')?.master).to.equal('v-net-0');
    expect(link('veth-blue-br')?.master).to.equal('v-net-0');
    expect(global('eth0')).to.deep.equal(['192.168.1.2/24']);

    await listen(blue, '192.168.15.2', PORT, 'blue');
    await listen(red, '192.168.15.1', PORT, 'red');
    expect(await ask(red, '192.168.15.2', PORT)).to.equal('blue');
    expect(await ask(lab.host, '192.168.15.2', PORT)).to.equal('blue');
    expect(await ask(lab.host, '192.168.15.1', PORT)).to.equal('red');

    // status: up, with no NIC missing, the links in the JSON; doctor finds nothing to fail
    const st = await lab.oob(['status', red, blue, '--json']);
    expect(st.code, st.stderr).to.equal(0);
    const report = JSON.parse(st.stdout) as {
      profiles: {
        name: string;
        health: string;
        problems: string[];
        nic: { name: string | null };
        links: { veth: { up: boolean } | null; bridge: { name: string; up: boolean } | null };
      }[];
    };
    for (const p of report.profiles) {
      expect(p.health, `${p.name}: ${p.problems.join('; ')}`).to.equal('ok');
      expect(p.nic.name).to.equal(null);
      expect(p.links.veth?.up).to.equal(true);
      expect(p.links.bridge).to.include({ name: 'v-net-0', up: true });
    }
    // the way out: blue reaches the LAN through the host's NAT, and the LAN sees the host's address
    await listenPeer(lan, '192.168.1.1', PORT);
    expect(await ask(blue, '192.168.1.1', PORT)).to.equal('192.168.1.2');
    // the way in: the host's TCP port 80 on the LAN answers from blue's listener
    await listen(blue, '192.168.15.2', 80, 'blue on port 80');
    expect(await ask(lan, '192.168.1.2', 80)).to.equal('blue on port 80');
    expect(await lab.inHost(['nft', 'list', 'tables'])).to.include(`table inet oob-${blue}`);

    const doc = await lab.oob(['doctor', blue]);
    expect(doc.stdout).not.to.match(/^FAIL/m);
    expect(doc.stdout).not.to.match(/NIC in the namespace/);

    const again = await lab.oob(['up', red, blue]);
    expect(again.stdout).to.include(`${red}: already up, nothing to do`);

    // blue first, then red: the shared bridge goes with the last of its profiles
    const downBlue = await lab.oob(['down', blue]);
    expect(downBlue.code, downBlue.stderr).to.equal(0);
    expect((await snapshot(lab.host)).links.map((l) => l.ifname))
      .to.include('v-net-0')
      .and.not.include('veth-blue-br');
    expect(await ask(lab.host, '192.168.15.1', PORT)).to.equal('red');
    const downRed = await lab.oob(['down', red]);
    expect(downRed.code, downRed.stderr).to.equal(0);
    expect(await hostFacts()).to.deep.equal(before);
    expect(await lab.namespaces()).not.to.include.members([red, blue]);
    expect(await records()).to.deep.equal([]);
  });

  it('oob killed (SIGKILL) in the middle of up: the next up finishes the picture, down cleans it all', async () => {
    const before = await hostFacts();
    // an ip that kills the oob that started it when it gets blue's inside batch, and does not run it
    const dir = path.join(lab.dir, 'kill-ip');
    await fsp.mkdir(dir);
    const realIp = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => existsSync(p))!;
    await fsp.writeFile(
      path.join(dir, 'ip'),
      `#!/bin/sh\ncase " $* " in *" -j "*) ;; *" -n ${blue} -batch "*) kill -9 $PPID; exit 1 ;; esac\nexec ${realIp} "$@"\n`,
      { mode: 0o755 },
    );
    const killed = await lab.oob(['up', red, blue], { PATH: `${dir}:${process.env.PATH}` });
    expect(killed.code, killed.stderr).not.to.equal(0);
    expect(await lab.namespaces()).to.include.members([red, blue]);
    // blue's inside was never configured
    expect((await snapshot(blue)).links.some((l) => l.addrs.some((a) => a.local === '192.168.15.2'))).to.equal(false);

    const up = await lab.oob(['up', red, blue]);
    expect(up.code, up.stderr).to.equal(0);
    await listen(blue, '192.168.15.2', PORT, 'blue');
    expect(await ask(red, '192.168.15.2', PORT)).to.equal('blue');

    const down = await lab.oob(['down', red, blue]);
    expect(down.code, down.stderr).to.equal(0);
    expect(await hostFacts()).to.deep.equal(before);
    expect(await records()).to.deep.equal([]);
  });

  it('oob killed in the middle of up, then down at once: nothing left', async () => {
    const before = await hostFacts();
    const dir = path.join(lab.dir, 'kill-ip');
    await fsp.mkdir(dir);
    const realIp = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => existsSync(p))!;
    // killed while the host's batch runs: the namespaces and links are made, nothing inside
    await fsp.writeFile(
      path.join(dir, 'ip'),
      `#!/bin/sh\ncase " $* " in *" -j "*|*" -n "*) ;; *" -batch "*) kill -9 $PPID ;; esac\nexec ${realIp} "$@"\n`,
      { mode: 0o755 },
    );
    await lab.oob(['up', red, blue], { PATH: `${dir}:${process.env.PATH}` });
    const down = await lab.oob(['down', blue, red]);
    expect(down.code, down.stderr).to.equal(0);
    expect(await hostFacts()).to.deep.equal(before);
    expect(await lab.namespaces()).not.to.include.members([red, blue]);
    expect(await records()).to.deep.equal([]);
  });

  it('refuses a bridge name taken by a link oob did not create, changing nothing (no namespace, no record)', async () => {
    await lab.inHost(['ip', 'link', 'add', 'v-net-0', 'type', 'bridge']);
    const before = await hostFacts();
    const r = await lab.oob(['up', red, blue]);
    expect(r.code).to.equal(7);
    expect(r.stderr.trim().split('\n')[0]).to.match(
      /\[veth\] bridge: v-net-0 is a link in the host that oob did not create: oob shares only bridges it made/,
    );
    expect(await hostFacts()).to.deep.equal(before);
    expect(await lab.namespaces()).not.to.include.members([red, blue]);
    expect(await records()).to.deep.equal([]);
    // and down of a profile that never came up does nothing, and leaves the admin's bridge alone
    const down = await lab.oob(['down', red]);
    expect(down.code, down.stderr).to.equal(0);
    expect(await hostFacts()).to.deep.equal(before);
  });

  it('garbage and a profile with neither [interface] nor [veth]: one line each, exit 3, nothing done', async () => {
    const before = await hostFacts();
    const f = await lab.writeProfile('[dns]\nnameserver = 192.168.1.1\n');
    const none = await lab.oob(['up', lab.profile]);
    expect(none.code).to.equal(3);
    expect(none.stderr.trim()).to.equal(
      `oob: ${f}:1: [interface]: no [interface] and no [veth]: the namespace would have no link at all; add [interface] with nic = NAME (a NIC to move), or [veth] (a link to the host)`,
    );
    await lab.writeProfile('[veth]\nname = v\nhost-name = v-br\naddress = 192.168.15.300/24\n%%garbage\n');
    const bad = await lab.oob(['up', lab.profile]);
    expect(bad.code).to.equal(3);
    const lines = bad.stderr.trim().split('\n');
    expect(lines[0]).to.match(new RegExp(`^oob: ${f}:4: \\[veth\\] address: `));
    expect(lines[1]).to.equal(`  ${f}:5: [veth]: "%%garbage" is not "key = value"`);
    const bin = await lab.writeProfile('[veth]\nname = v\n\u0000\u0001');
    const binary = await lab.oob(['up', lab.profile]);
    expect(binary.code).to.equal(3);
    expect(binary.stderr.trim()).to.match(new RegExp(`^oob: ${bin}: a binary file`));
    expect(await hostFacts()).to.deep.equal(before);
    expect((await sh(['ls', lab.runtimeDir])).stdout.trim()).to.equal('');
  });
});
