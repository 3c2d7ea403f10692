// address = dhcp against a real DHCP server: dnsmasq in the lab's router namespace (bound to the
// router's interfaces only, DNS off, its lease and pid files in the lab's directory), oob's udhcpc
// in the management namespace.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { SupervisorState } from '../../src/state/supervisor.js';
import { CLI, Lab, linkFacts, must, snapshot, waitFor } from './lab.js';

class Sup {
  log = '';
  exit: Promise<number>;
  constructor(readonly p: ChildProcess) {
    p.stderr?.on('data', (d) => (this.log += d));
    p.stdout!.on('data', (d) => (this.log += d));
    this.exit = new Promise((r) => p.on('close', (code, sig) => r(code ?? (sig === 'SIGKILL' ? 137 : 128))));
  }
}

const haveTools = existsSync('/usr/sbin/dnsmasq') && existsSync('/bin/busybox');

describe('integration: address = dhcp (udhcpc in the namespace, dnsmasq in the router)', function () {
  let lab: Lab;
  let procs: ChildProcess[] = [];
  let sups: Sup[] = [];
  before(function () {
    if (!haveTools) throw new Error('dnsmasq and busybox are needed: run test/install-deps.sh');
  });
  beforeEach(async () => {
    withR1 = false;
    lab = await Lab.create();
  });
  afterEach(async () => {
    for (const s of sups) s.p.kill('SIGKILL');
    for (const p of procs) p.kill('SIGKILL');
    sups = [];
    procs = [];
    await lab.destroy();
    expect(await lab.namespaces()).to.deep.equal([]);
  });

  const leases = () => path.join(lab.dir, 'dnsmasq.leases');
  let dnsmasq: ChildProcess | undefined;
  /** dnsmasq on the router's r0 (and r1 when the host-side client is there), DNS off (--port=0). */
  let withR1 = false;
  async function startServer(extra: string[] = []): Promise<void> {
    const p = spawn(
      'ip',
      [
        'netns',
        'exec',
        lab.router,
        '/usr/sbin/dnsmasq',
        '--keep-in-foreground',
        '--conf-file=/dev/null',
        '--port=0',
        '--bind-interfaces',
        '--interface=r0',
        ...(withR1 ? ['--interface=r1'] : []),
        '--except-interface=lo',
        '--dhcp-authoritative',
        '--dhcp-range=set:a,10.20.30.100,10.20.30.129,255.255.255.0,2m',
        '--dhcp-range=set:b,10.20.31.100,10.20.31.129,255.255.255.0,2m',
        '--dhcp-option=tag:a,option:router,10.20.30.20',
        '--dhcp-option=tag:a,option:dns-server,10.20.30.53',
        '--dhcp-option=tag:b,option:router,10.20.31.20',
        '--dhcp-option=tag:b,option:dns-server,10.20.31.53',
        `--dhcp-leasefile=${leases()}`,
        `--pid-file=${path.join(lab.dir, 'dnsmasq.pid')}`,
        `--log-facility=${path.join(lab.dir, 'dnsmasq.log')}`,
        '--log-dhcp',
        ...extra,
      ],
      { stdio: 'ignore' },
    );
    procs.push(p);
    dnsmasq = p;
    await waitFor('dnsmasq to write its pid file', async () => existsSync(path.join(lab.dir, 'dnsmasq.pid')));
  }
  async function stopServer(): Promise<void> {
    const p = dnsmasq!;
    const gone = new Promise((r) => p.on('close', r));
    p.kill('SIGTERM');
    await gone;
    await fsp.rm(path.join(lab.dir, 'dnsmasq.pid'), { force: true });
  }

  function run(): Sup {
    const p = spawn(
      '/usr/bin/nsenter',
      [`--net=/run/netns/${lab.host}`, '--', process.execPath, CLI, 'run', lab.profile],
      { env: lab.env(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const s = new Sup(p);
    sups.push(s);
    return s;
  }
  const state = async (): Promise<SupervisorState | undefined> =>
    JSON.parse(await fsp.readFile(path.join(lab.runtimeDir, lab.profile, 'state.json'), 'utf8').catch(() => 'null'));
  const leaseFile = () => path.join(lab.runtimeDir, lab.profile, 'dhcp4.lease');
  const lease = async () => {
    const t = await fsp.readFile(leaseFile(), 'utf8').catch(() => '');
    return Object.fromEntries(
      t.split('\n').flatMap((l) => (l.includes('=') ? [l.split('=', 2) as [string, string]] : [])),
    );
  };
  /** The NIC's IPv4 addresses in the management namespace. */
  const nsAddrs = async () => {
    const nic = (await snapshot(lab.profile)).links.find((l) => l.alias?.startsWith('oob:'));
    return (nic?.addrs ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
  };
  const nsDefault = async () =>
    (await snapshot(lab.profile)).routes
      .filter((r) => r.dst === 'default' && r.family === 4)
      .map((r) => `${r.gateway} ${r.protocol}`);
  const dnsFile = () => `/etc/netns/${lab.profile}/resolv.conf`;
  const udhcpcPid = async () => (await state())!.services.dhcp4!.pid!;
  const stopped = async (s: Sup) => {
    s.p.kill('SIGTERM');
    expect(await s.exit).to.equal(0);
  };

  it('gets a lease: address, default route and DNS in the namespace, ready only then; renews; survives a kill; releases on stop', async () => {
    await lab.writeProfile(`[interface]\nnic = ${lab.nic}\naddress = dhcp\n`);
    const hostBefore = linkFacts((await snapshot(lab.host)).links.find((l) => l.ifname === lab.nic));
    const mac = hostBefore!.mac;
    const s = run();
    // no server yet: the client runs, but no lease means not ready
    await waitFor('the dhcp4 service to run', async () => (await state())?.services.dhcp4?.phase === 'running');
    expect((await state())!.ready).to.equal(false);
    expect(await nsAddrs()).to.deep.equal([]);
    // the DNS file exists (empty of servers) before any service starts: the hook fills it in place
    const inode = (await fsp.stat(dnsFile())).ino;

    await startServer();
    const st = await waitFor('ready with a lease', async () => {
      const x = await state();
      return x?.ready ? x : undefined;
    });
    expect(st.network).to.equal('up');
    const l1 = await lease();
    expect(l1.address).to.match(/^10\.20\.30\.1[0-2]\d\/24$/);
    expect(l1).to.include({ server: '10.20.30.20', router: '10.20.30.20', dns: '10.20.30.53', lease: '120' });
    expect(await nsAddrs()).to.deep.equal([l1.address]);
    expect(await nsDefault()).to.deep.equal(['10.20.30.20 dhcp']);
    expect(await fsp.readFile(dnsFile(), 'utf8')).to.match(/^# generated by oob.*\nnameserver 10\.20\.30\.53\n$/);
    expect((await fsp.stat(dnsFile())).ino, 'the DNS file was replaced, not written in place').to.equal(inode);
    // the kernel holds the address with the lease's lifetime: flagged dynamic, gone if never renewed
    const nic = (await snapshot(lab.profile)).links.find((l) => l.alias?.startsWith('oob:'))!;
    expect(nic.addrs.find((a) => a.family === 'inet')!.dynamic).to.equal(true);
    expect(await fsp.readFile(leases(), 'utf8')).to.include(`${mac} ${l1.address!.split('/')[0]}`);
    const status = await lab.oob(['status', '--json', lab.profile]);
    const ps = JSON.parse(status.stdout).profiles[0];
    expect(ps.dhcp).to.include({ address: l1.address, server: '10.20.30.20', valid: true });
    expect(ps.health, ps.problems.join('; ')).to.equal('ok');

    // a renewal (SIGUSR1 asks udhcpc to renew now): the same address, a later obtained time
    await new Promise((r) => setTimeout(r, 1100));
    process.kill(await udhcpcPid(), 'SIGUSR1');
    const l2 = await waitFor('a renewed lease', async () => {
      const x = await lease();
      return Number(x.obtained) > Number(l1.obtained) ? x : undefined;
    });
    expect(l2.address).to.equal(l1.address);
    expect(await fsp.readFile(path.join(lab.dir, 'dnsmasq.log'), 'utf8')).to.match(/DHCPREQUEST\(r0\)/);

    // the client killed: restarted by the supervisor, and it keeps the lease's address
    await new Promise((r) => setTimeout(r, 1100)); // obtained has a resolution of seconds
    const pid = await udhcpcPid();
    process.kill(pid, 'SIGKILL');
    const back = await waitFor('udhcpc restarted', async () => {
      const sv = (await state())?.services.dhcp4;
      return sv?.phase === 'running' && sv.pid !== pid ? sv : undefined;
    });
    expect(back.restarts).to.equal(1);
    await waitFor('a lease after the restart', async () => Number((await lease()).obtained) > Number(l2.obtained));
    expect((await lease()).address).to.equal(l1.address);
    expect(await nsAddrs()).to.deep.equal([l1.address]);

    // stop: the lease released (gone from dnsmasq's lease file), the NIC back as it was, no files left
    await stopped(s);
    await waitFor('the release in the server', async () => !(await fsp.readFile(leases(), 'utf8')).includes(mac));
    expect(await fsp.readFile(path.join(lab.dir, 'dnsmasq.log'), 'utf8')).to.match(/DHCPRELEASE\(r0\)/);
    expect(linkFacts((await snapshot(lab.host)).links.find((l) => l.ifname === lab.nic))).to.deep.equal(hostBefore);
    expect(existsSync(path.join(lab.runtimeDir, lab.profile))).to.equal(false);
    expect(existsSync(dnsFile())).to.equal(false);
  });

  it('the server changes the address at renewal: the new address in the namespace, the old one gone', async () => {
    await lab.writeProfile(`[interface]\nnic = ${lab.nic}\naddress = dhcp\n`);
    const mac = linkFacts((await snapshot(lab.host)).links.find((l) => l.ifname === lab.nic))!.mac;
    await startServer();
    const s = run();
    await waitFor('ready', async () => (await state())?.ready);
    const old = (await lease()).address!;
    await stopServer();
    await fsp.rm(leases(), { force: true });
    await startServer([`--dhcp-host=${mac},10.20.30.140`]);
    process.kill(await udhcpcPid(), 'SIGUSR1');
    await waitFor('the new lease', async () => (await lease()).address === '10.20.30.140/24');
    await waitFor('the old address gone', async () => (await nsAddrs()).join() === '10.20.30.140/24');
    expect(old).not.to.equal('10.20.30.140/24');
    expect(await nsDefault()).to.deep.equal(['10.20.30.20 dhcp']);
    await stopped(s);
  });

  it('mixed static + dhcp, gateway and [dns] from the profile win over the lease', async () => {
    await lab.writeProfile(
      `[interface]\nnic = ${lab.nic}\naddress = 10.20.30.1/24, dhcp\ngateway = 10.20.30.21\n[dns]\nnameserver = 10.20.30.99\n`,
    );
    await startServer();
    const s = run();
    await waitFor('ready', async () => (await state())?.ready);
    const l = await lease();
    expect((await nsAddrs()).sort()).to.deep.equal(['10.20.30.1/24', l.address].sort());
    expect(await nsDefault()).to.deep.equal(['10.20.30.21 boot']);
    expect(await fsp.readFile(dnsFile(), 'utf8')).to.include('nameserver 10.20.30.99\n');
    expect(await fsp.readFile(dnsFile(), 'utf8')).not.to.include('10.20.30.53');
    // oob down under the running supervisor: the client ends with the namespace (and releases), its files go
    const mac = (await snapshot(lab.profile)).links.find((l) => l.alias?.startsWith('oob:'))!.mac;
    expect((await lab.oob(['down', lab.profile])).code).to.equal(0);
    expect(await s.exit).not.to.equal(0);
    await waitFor('the release in the server', async () => !(await fsp.readFile(leases(), 'utf8')).includes(mac));
    expect(existsSync(path.join(lab.runtimeDir, lab.profile))).to.equal(false);
  });

  it('cannot touch the host: the same client on the host side at the same time keeps its lease, addresses, routes; /etc/resolv.conf unchanged', async () => {
    const hash = async () =>
      createHash('sha256')
        .update(await fsp.readFile('/etc/resolv.conf'))
        .digest('hex');
    const etcBefore = await hash();
    // a second link from the lab's host to the router, with its own client (the same udhcpc and hook)
    await must(['ip', '-n', lab.host, 'link', 'add', 'h1', 'type', 'veth', 'peer', 'name', 'r1', 'netns', lab.router]);
    await must(['ip', '-n', lab.router, '-batch', '-'], 'addr add 10.20.31.20/24 dev r1\nlink set r1 up\n');
    await must(['ip', '-n', lab.host, 'link', 'set', 'h1', 'up']);
    withR1 = true;
    await startServer();
    const { HOOK_SCRIPT } = await import('../../src/profile/dhcp.js');
    const hook = path.join(lab.dir, 'host-hook');
    await fsp.writeFile(hook, HOOK_SCRIPT, { mode: 0o700 });
    const hostLease = path.join(lab.dir, 'host.lease');
    const hostClient = spawn(
      'ip',
      ['netns', 'exec', lab.host, 'busybox', 'udhcpc', '-f', '-i', 'h1', '-s', hook, '-p', path.join(lab.dir, 'h.pid')],
      {
        stdio: 'ignore',
        env: {
          ...process.env,
          OOB_LEASE: hostLease,
          OOB_GATEWAY: '',
          OOB_DNS: '1',
          OOB_DNSFILE: path.join(lab.dir, 'host-resolv.conf'),
          OOB_DNSPART: path.join(lab.dir, 'host-dhcp4.dns'),
          OOB_DNSPARTS: path.join(lab.dir, 'host-dhcp4.dns'),
        },
      },
    );
    procs.push(hostClient);
    await waitFor('the host-side lease', async () => existsSync(hostLease));
    const hostBefore = await snapshot(lab.host);
    const hostLeaseBefore = await fsp.readFile(hostLease, 'utf8');

    await lab.writeProfile(`[interface]\nnic = ${lab.nic}\naddress = dhcp\n`);
    const s = run();
    await waitFor('ready', async () => (await state())?.ready);
    // both renew while both run
    process.kill(await udhcpcPid(), 'SIGUSR1');
    await new Promise((r) => setTimeout(r, 1500));
    const hostNow = await snapshot(lab.host);
    const h1 = (x: typeof hostNow) => linkFacts(x.links.find((l) => l.ifname === 'h1'));
    expect(h1(hostNow)).to.deep.equal(h1(hostBefore));
    expect(
      hostNow.routes.filter((r) => r.dev === 'h1' || r.dst === 'default').map((r) => `${r.dst} ${r.gateway}`),
    ).to.deep.equal(
      hostBefore.routes.filter((r) => r.dev === 'h1' || r.dst === 'default').map((r) => `${r.dst} ${r.gateway}`),
    );
    expect(await fsp.readFile(hostLease, 'utf8')).to.equal(hostLeaseBefore);
    expect((await lease()).address!.startsWith('10.20.30.')).to.equal(true);
    await stopped(s);
    // the host's client is still running, its address still there
    expect(hostClient.exitCode).to.equal(null);
    expect(h1(await snapshot(lab.host))).to.deep.equal(h1(hostBefore));
    expect(await hash()).to.equal(etcBefore);
  });
});
