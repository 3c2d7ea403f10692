// [nat] and [forward] on real namespaces, inside the lab's host namespace: a "LAN" namespace on
// the host's uplink sees the host's address (masquerade), a port forward on the host answers from
// the namespace's listener, the namespace masquerades the host's traffic out of its NIC; doctor
// finds a deleted table and forwarding turned off; a failure at each new step rolls everything
// back; down leaves no table and the sysctls as before.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { listeningPortsOf } from '../../src/sys/proc.js';
import { until } from '../../src/sys/until.js';
import { statusSchema } from '../../src/status/schema.js';
import { validate } from '../helpers/schema.js';
import { ask, isRoot, Lab, listen, must, sh } from './lab.js';
import { failingTool } from './faults.js';

/** A TCP listener in a namespace that answers with the address the connection came from. */
async function listenEcho(ns: string, addr: string, port: number): Promise<void> {
  const code = `require('net').createServer(s=>s.end(s.remoteAddress.replace(/^::ffff:/,''))).listen(${port},${JSON.stringify(addr)})`;
  const c = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { detached: true, stdio: 'ignore' });
  c.unref();
  const up = await until(async () => (await listeningPortsOf(c.pid!))?.includes(port), {
    intervalMs: 30,
    timeoutMs: 5000,
  });
  if (!up) throw new Error(`listener in ${ns} did not start`);
}

describe('integration: [nat] and [forward] with nftables', function () {
  let lab: Lab;
  let lan = '';
  let up = ''; // the host's uplink to the LAN (eth0 in the tutorial)
  before(function () {
    if (!isRoot()) {
      console.log('    SKIPPED: the integration tests need root (they create network namespaces)');
      this.skip();
    }
  });
  beforeEach(async () => {
    lab = await Lab.create();
    lan = await lab.addNs('lan');
    up = `${lab.nic}u`;
    await lab.inHost(['ip', 'link', 'add', up, 'type', 'veth', 'peer', 'name', 'l0', 'netns', lan]);
    await lab.inHost(['ip', '-batch', '-'], `addr add 192.168.1.2/24 dev ${up}\nlink set ${up} up\n`);
    await must(['ip', '-n', lan, '-batch', '-'], 'link set lo up\naddr add 192.168.1.50/24 dev l0\nlink set l0 up\n');
  });
  afterEach(async () => {
    await lab?.destroy();
    expect(await lab.namespaces(), 'the lab left namespaces behind').to.deep.equal([]);
  });

  const profile = (extra = '') =>
    lab.writeProfile(
      `[interface]\nnic = ${lab.nic}\naddress = 10.20.30.1/24\n` +
        `[veth]\nname = veth-b\nhost-name = veth-bh\naddress = 192.168.15.2/24\nhost-address = 192.168.15.5/24\n` +
        `[routes]\nnamespace = 192.168.1.0/24 via 192.168.15.5\n` +
        `[nat]\nhost = 192.168.15.0/24 out ${up}\n` +
        `[forward]\nhost = tcp 192.168.1.2:8080 to 192.168.15.2:7130\n` +
        extra,
    );
  const hostNft = async () => (await lab.inHost(['nft', 'list', 'ruleset'])).trim();
  const sysctl = async (ns: string, key = 'net.ipv4.ip_forward') =>
    (await must(['ip', 'netns', 'exec', ns, 'sysctl', '-n', key])).trim();
  const hostFacts = async () => ({ nft: await hostNft(), fwd: await sysctl(lab.host) });

  it('masquerade: the LAN sees the host, not the namespace; a forward on the host answers from the namespace; down puts all back', async () => {
    await profile();
    const before = await hostFacts();
    expect(before.fwd).to.equal('0');
    const plan = await lab.oob(['plan', lab.profile]);
    expect(plan.code, plan.stderr).to.equal(0);
    // the here-document ends on a line of its own (copy-pastable): its title goes above it
    expect(plan.stdout).to.match(/^# load table inet oob-\S+ in the host \(2 rule\(s\)\)\nnft -f - <<'EOF'\n/m);
    expect(plan.stdout).to.match(/^EOF$/m);
    expect(plan.stdout).to.include(
      `ip saddr 192.168.15.0/24 oifname "${up}" masquerade comment "oob: masquerade 192.168.15.0/24 out ${up}"`,
    );
    expect(plan.stdout).to.include('sysctl -q -w net.ipv4.ip_forward=1    # turn on net.ipv4.ip_forward in the host');

    const r = await lab.oob(['up', lab.profile]);
    expect(r.code, r.stderr).to.equal(0);
    expect(await sysctl(lab.host)).to.equal('1');
    expect(await sysctl(lab.profile), 'the namespace routes nothing here').to.equal('0');
    const table = JSON.parse(await lab.inHost(['nft', '-j', 'list', 'table', 'inet', `oob-${lab.profile}`])) as {
      nftables: Array<{ rule?: { comment?: string } }>;
    };
    expect(table.nftables.flatMap((x) => (x.rule?.comment ? [x.rule.comment] : []))).to.deep.equal([
      'oob: forward tcp 192.168.1.2:8080 to 192.168.15.2:7130',
      `oob: masquerade 192.168.15.0/24 out ${up}`,
    ]);

    // the way out: the LAN sees the host's address
    await listenEcho(lan, '192.168.1.50', 7131);
    expect(await ask(lab.profile, '192.168.1.50', 7131)).to.equal('192.168.1.2');
    // the way in: the host's 192.168.1.2:8080 answers from the namespace's listener
    await listen(lab.profile, '192.168.15.2', 7130, 'blue');
    expect(await ask(lan, '192.168.1.2', 8080)).to.equal('blue');

    const again = await lab.oob(['plan', lab.profile]);
    expect(again.stdout).to.include('nothing to do');
    const json = JSON.parse((await lab.oob(['status', lab.profile, '--json'])).stdout) as unknown;
    expect(validate(statusSchema as never, json), 'status --json does not match its schema').to.deep.equal([]);
    const st = json as {
      profiles: Array<{ nat: unknown; forwards: unknown; ipForward: unknown }>;
    };
    expect(st.profiles[0]!.nat).to.deep.equal([{ side: 'host', subnet: '192.168.15.0/24', out: up, present: true }]);
    expect(st.profiles[0]!.forwards).to.deep.equal([
      {
        side: 'host',
        proto: 'tcp',
        listen: '192.168.1.2',
        port: 8080,
        to: '192.168.15.2',
        toPort: 7130,
        present: true,
      },
    ]);
    expect(st.profiles[0]!.ipForward).to.deep.equal({ host: true, namespace: null });

    const down = await lab.oob(['down', lab.profile]);
    expect(down.code, down.stderr).to.equal(0);
    expect(await hostFacts()).to.deep.equal(before);
  });

  it('the namespace masquerades the host out of its NIC, and forwards the management LAN to a host-only service', async () => {
    await lab.writeProfile(
      `[interface]\nnic = ${lab.nic}\naddress = 10.20.30.1/24\n` +
        `[veth]\nname = veth-b\nhost-name = veth-bh\naddress = 192.168.15.2/24\nhost-address = 192.168.15.5/24\n` +
        `[routes]\nhost = 10.20.30.0/24 via 192.168.15.2\n` +
        `[nat]\nnamespace = 192.168.15.0/24 out ${lab.nic}\n` +
        `[forward]\nnamespace = tcp 10.20.30.1:7133 to 192.168.15.5:7134\n`,
    );
    const before = await hostFacts();
    const r = await lab.oob(['up', lab.profile]);
    expect(r.code, r.stderr).to.equal(0);
    expect(await sysctl(lab.profile)).to.equal('1');
    expect(await sysctl(lab.host), 'the host routes nothing here').to.equal('0');
    await listenEcho(lab.router, '10.20.30.20', 7132);
    expect(await ask(lab.host, '10.20.30.20', 7132)).to.equal('10.20.30.1');
    // and the management LAN reaches a host-only service through the namespace's forward
    await listen(lab.host, '192.168.15.5', 7134, 'host-only');
    expect(await ask(lab.router, '10.20.30.1', 7133)).to.equal('host-only');
    expect((await lab.oob(['plan', lab.profile])).stdout).to.include('nothing to do');
    expect((await lab.oob(['down', lab.profile])).code).to.equal(0);
    expect(await hostFacts()).to.deep.equal(before);
  });

  it('red and blue on bridge v-net-0 share the host forwarding: the last one down puts it back, in either order', async () => {
    const red = `${lab.profile}r`;
    const blue = `${lab.profile}b`;
    const nic2 = `${lab.nic}2`;
    await lab.inHost(['ip', 'link', 'add', nic2, 'type', 'veth', 'peer', 'name', 'r1', 'netns', lab.router]);
    const seed = (nic: string, addr: string, me: string, extra: string) =>
      `[interface]\nnic = ${nic}\naddress = ${addr}\n` +
      `[veth]\nname = veth-${me}\nhost-name = veth-${me}-br\naddress = 192.168.15.${me === 'red' ? 1 : 2}/24\nbridge = v-net-0\nbridge-address = 192.168.15.5/24\n` +
      `[routes]\nnamespace = 192.168.1.0/24 via 192.168.15.5\n` +
      `[nat]\nhost = 192.168.15.0/24 out ${up}\n${extra}`;
    await lab.writeProfile(seed(lab.nic, '10.20.30.1/24', 'red', ''), { name: red });
    await lab.writeProfile(seed(nic2, '10.20.31.1/24', 'blue', '[forward]\nhost = tcp 8081 to 192.168.15.2:7130\n'), {
      name: blue,
    });
    const before = await hostFacts();
    await listenEcho(lan, '192.168.1.50', 7131);
    for (const order of [
      [red, blue],
      [blue, red],
    ]) {
      const r = await lab.oob(['up', red, blue]);
      expect(r.code, r.stderr).to.equal(0);
      expect(await sysctl(lab.host)).to.equal('1');
      expect(await ask(red, '192.168.1.50', 7131)).to.equal('192.168.1.2');
      if (order[0] === red) {
        // a forward with no address: the host's own addresses
        await listen(blue, '192.168.15.2', 7130, 'blue');
        expect(await ask(lan, '192.168.1.2', 8081)).to.equal('blue');
      }
      const first = await lab.oob(['down', order[0]!]);
      expect(first.code, first.stderr).to.equal(0);
      expect(await sysctl(lab.host), `${order[1]} still needs it`).to.equal('1');
      expect(await hostNft()).not.to.include(`oob-${order[0]} `);
      // (the bridge keeps its MAC when red's port leaves: blue's ARP entry for the host stays right)
      expect(await ask(order[1]!, '192.168.1.50', 7131)).to.equal('192.168.1.2');
      const second = await lab.oob(['down', order[1]!]);
      expect(second.code, second.stderr).to.equal(0);
      expect(await hostFacts()).to.deep.equal(before);
    }
  });

  it('doctor: the table deleted by hand, forwarding turned off by hand: FAIL with the fix; up repairs', async () => {
    await profile();
    expect((await lab.oob(['up', lab.profile])).code).to.equal(0);
    const doctor = async () => (await lab.oob(['doctor', lab.profile])).stdout;
    const healthy = await doctor();
    expect(healthy).to.match(/^PASS {2}NAT rules +1 masquerade, 1 forward in table inet oob-/m);
    expect(healthy).to.match(/^PASS {2}IP forwarding +net\.ipv4\.ip_forward = 1 in the host/m);
    expect(healthy).not.to.match(/^FAIL {2}(NAT|IP forwarding)/m);
    await lab.inHost(['nft', 'delete', 'table', 'inet', `oob-${lab.profile}`]);
    expect(await doctor()).to.match(/^FAIL {2}NAT rules +no table inet oob-\S+ in the host/m);
    expect((await lab.oob(['up', lab.profile])).code).to.equal(0);
    await lab.inHost(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=0']);
    const off = await doctor();
    expect(off).to.match(/^FAIL {2}IP forwarding +net\.ipv4\.ip_forward is 0 in the host/m);
    expect(off).to.match(/fix: oob up /);
    expect((await lab.oob(['up', lab.profile])).code).to.equal(0);
    expect(await doctor()).not.to.match(/^FAIL {2}(NAT|IP forwarding)/m);
    expect((await lab.oob(['down', lab.profile])).code).to.equal(0);
  });

  for (const [what, tool, text, extra] of [
    ['loading the host table', 'nft', `masquerade 192.168.15.0/24 out`, ''],
    ['turning on forwarding in the host', 'sysctl', 'net.ipv4.ip_forward=1', ''],
    ['loading the namespace table', 'nft', 'masquerade 10.99.0.0/24', 'namespace = 10.99.0.0/24 out veth-b'],
    [
      'turning on forwarding in the namespace',
      'sysctl',
      'net.ipv4.ip_forward=1',
      'namespace = 10.99.0.0/24 out veth-b',
    ],
  ] as const)
    it(`a failure at ${what} rolls everything back`, async () => {
      const f = await profile();
      if (extra) await fsp.writeFile(f, (await fsp.readFile(f, 'utf8')).replace('[nat]\n', `[nat]\n${extra}\n`));
      const before = await hostFacts();
      const dir = await failingTool(lab, tool, text);
      const failed = await lab.oob(['up', lab.profile], { PATH: `${dir}:${process.env.PATH}` });
      expect(failed.code, failed.stderr).to.equal(10);
      expect(failed.stderr).to.match(/rolled back/);
      expect(existsSync(path.join(dir, 'done')), 'the fault was injected').to.equal(true);
      expect(await hostFacts()).to.deep.equal(before);
      expect(await lab.namespaces()).to.not.include(lab.profile);
      expect(existsSync(path.join(lab.runtimeDir, lab.profile)), 'no record left').to.equal(false);
    });

  it('refuses a table oob-NAME that oob did not create, changing nothing', async () => {
    await profile();
    await lab.inHost(['nft', 'add', 'table', 'inet', `oob-${lab.profile}`]);
    const before = await hostFacts();
    const r = await lab.oob(['up', lab.profile]);
    expect(r.code, r.stderr).to.equal(7);
    expect(r.stderr).to.match(/a table inet oob-\S+ exists in the host and oob did not create it/);
    expect(await hostFacts()).to.deep.equal(before);
    expect(await lab.namespaces()).to.not.include(lab.profile);
    // down leaves it alone too
    expect((await lab.oob(['down', lab.profile])).code).to.equal(0);
    expect(await hostNft()).to.include(`table inet oob-${lab.profile}`);
  });

  it("a forward taking the host's SSH port is refused like the lock-out guard; --force overrides, said aloud", async () => {
    await profile().then(async (f) =>
      fsp.writeFile(f, (await fsp.readFile(f, 'utf8')).replace('tcp 192.168.1.2:8080', 'tcp 22')),
    );
    const before = await hostFacts();
    const r = await lab.oob(['up', lab.profile]);
    expect(r.code, r.stderr).to.equal(8);
    expect(r.stderr).to.match(/takes TCP port 22, the host's SSH port/);
    expect(await hostFacts()).to.deep.equal(before);
    const forced = await lab.oob(['up', lab.profile, '--force']);
    expect(forced.code, forced.stderr).to.equal(0);
    expect(forced.stderr).to.match(/--force: \[forward\] host "tcp 22 to 192\.168\.15\.2:7130"/);
    expect((await lab.oob(['down', lab.profile])).code).to.equal(0);
    expect(await hostFacts()).to.deep.equal(before);
  });

  it('without nft: a profile with [nat] is refused with exit 6 before anything changes', async () => {
    await profile();
    const dir = path.join(lab.dir, 'no-nft');
    await fsp.mkdir(dir);
    // a PATH with ip and sysctl, but no nft
    for (const t of ['ip', 'sysctl', 'sh', 'cat'])
      await fsp.symlink((await sh(['sh', '-c', `command -v ${t}`])).stdout.trim(), path.join(dir, t));
    const before = await hostFacts();
    const r = await lab.oob(['up', lab.profile], { PATH: dir });
    expect(r.code, r.stderr).to.equal(6);
    expect(r.stderr.trim()).to.match(/nft is not installed .*apt-get install nftables/);
    expect(await hostFacts()).to.deep.equal(before);
  });

  it('down without nft: says what is left (exit 11), keeps the record; down again with nft finishes', async () => {
    await profile();
    const before = await hostFacts();
    expect((await lab.oob(['up', lab.profile])).code).to.equal(0);
    const dir = path.join(lab.dir, 'no-nft');
    await fsp.mkdir(dir);
    for (const t of ['ip', 'sysctl', 'sh', 'cat'])
      await fsp.symlink((await sh(['sh', '-c', `command -v ${t}`])).stdout.trim(), path.join(dir, t));
    const r = await lab.oob(['down', lab.profile], { PATH: dir });
    expect(r.code, r.stderr).to.equal(11);
    expect(r.stderr).to.match(/failed: nft -f - <<'EOF'/);
    expect(r.stderr).to.match(/nft is not installed/);
    expect(existsSync(path.join(lab.runtimeDir, lab.profile, 'nat.json')), 'the record is kept').to.equal(true);
    expect(await hostNft()).to.include(`table inet oob-${lab.profile}`);
    const again = await lab.oob(['down', lab.profile]);
    expect(again.code, again.stderr).to.equal(0);
    expect(await hostFacts()).to.deep.equal(before);
  });
});
