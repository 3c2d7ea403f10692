// address = dhcp6 and auto against real servers: dnsmasq in the lab's router namespace as DHCPv6
// server and router-advertisement sender (bound to the router's interfaces, DNS off, its files in
// the lab's directory), oob's dhcpcd and the kernel's SLAAC in the management namespace.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fsp, readdirSync } from 'node:fs';
import * as path from 'node:path';
import {
  DHCP4_LAN,
  type Dnsmasq,
  dnsmasqLeases,
  Lab,
  leaseFields,
  linkFacts,
  must,
  runSupervisor,
  sh,
  snapshot,
  startDnsmasq,
  type Sup,
  supervisorState,
  waitFor,
} from './lab.js';

const haveTools = existsSync('/usr/sbin/dnsmasq') && existsSync('/usr/sbin/dhcpcd') && existsSync('/bin/busybox');
// dhcpcd's built-in directories on this machine: the tests leave them as they found them
const RUN_DHCPCD = '/run/dhcpcd';
const DB_DHCPCD = '/var/lib/dhcpcd';
const listing = (d: string) => (existsSync(d) ? readdirSync(d).sort() : null);

describe('integration: address = dhcp6 / auto (dhcpcd and SLAAC in the namespace, dnsmasq in the router)', function () {
  let lab: Lab;
  let procs: ChildProcess[] = [];
  let sups: Sup[] = [];
  let runBefore: string[] | null;
  let dbBefore: string[] | null;
  before(function () {
    if (!haveTools) throw new Error('dnsmasq, dhcpcd and busybox are needed: run test/install-deps.sh');
    runBefore = listing(RUN_DHCPCD);
    dbBefore = listing(DB_DHCPCD);
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
    // what a host-side dhcpcd of a test left in the real directories goes; oob's never were there
    for (const [dir, before] of [
      [DB_DHCPCD, dbBefore],
      [RUN_DHCPCD, runBefore],
    ] as const) {
      for (const f of listing(dir) ?? []) if (!before?.includes(f)) await fsp.rm(path.join(dir, f), { force: true });
    }
  });
  after(async () => {
    // the mount point oob's wrapper made (rmdir of a mount point detaches it in every mount namespace:
    // only once no client of this suite runs)
    if (runBefore === null && existsSync(RUN_DHCPCD)) await fsp.rmdir(RUN_DHCPCD);
  });

  const leases = () => dnsmasqLeases(lab);
  let dnsmasq: Dnsmasq | undefined;
  let withR1 = false;
  /** dnsmasq on r0 (and r1), DNS off: DHCPv4, and DHCPv6 + RAs as `v6` says. */
  async function startServer(v6: string[]): Promise<void> {
    const ra = ['--enable-ra', '--ra-param=r0,10', '--dhcp-option=option6:dns-server,[2001:db8:30::53]'];
    dnsmasq = await startDnsmasq(lab, [...ra, ...DHCP4_LAN, ...v6], { r1: withR1 });
    procs.push(dnsmasq.proc);
  }
  const STATEFUL = ['--dhcp-range=::100,::1ff,constructor:r0,64,2m'];
  const RA_ONLY = ['--dhcp-range=::,constructor:r0,ra-only,64,2m'];
  const stopServer = () => dnsmasq!.stop();

  const run = () => runSupervisor(lab, sups);
  const state = () => supervisorState(lab);
  const lease6 = () => leaseFields(lab, 'dhcp6.lease');
  const nic = async () => (await snapshot(lab.profile)).links.find((l) => l.alias?.startsWith('oob:'))!;
  const addrs6 = async () =>
    (await nic()).addrs
      .filter((a) => a.family === 'inet6' && a.scope === 'global')
      .map((a) => `${a.local}/${a.prefixlen}`)
      .sort();
  const default6 = async () =>
    (await snapshot(lab.profile)).routes
      .filter((r) => r.dst === 'default' && r.family === 6)
      .map((r) => `${r.gateway} ${r.protocol}`);
  const sysctl = async (key: string) =>
    (
      await must(['ip', 'netns', 'exec', lab.profile, 'sysctl', '-n', `net.ipv6.conf.${(await nic()).ifname}.${key}`])
    ).trim();
  const dnsFile = () => `/etc/netns/${lab.profile}/resolv.conf`;
  const routerLinkLocal = async () =>
    (await snapshot(lab.router)).links
      .find((l) => l.ifname === 'r0')!
      .addrs.find((a) => a.family === 'inet6' && a.scope === 'link')!.local;
  const status = async () => JSON.parse((await lab.oob(['status', '--json', lab.profile])).stdout).profiles[0];
  /** Ready, or a failure that shows what the supervisor and the server said. */
  const ready = async (s: Sup, what: string) => told(s, what, async () => (await state())?.ready);
  const told = async <T>(s: Sup, what: string, f: () => Promise<T | undefined | false>) =>
    waitFor(what, f).catch(async (e: Error) => {
      const log = await fsp.readFile(path.join(lab.dir, 'dnsmasq.log'), 'utf8').catch(() => '');
      throw new Error(`${e.message}\n--- supervisor:\n${s.log.slice(-3000)}\n--- dnsmasq:\n${log.slice(-2000)}`);
    });
  const stopped = async (s: Sup) => {
    s.p.kill('SIGTERM');
    expect(await s.exit).to.equal(0);
  };

  it('dhcp6: the lease on the NIC, its DNS in place, no RA taken; the client killed comes back with the same address; stop releases and the NIC returns as recorded', async () => {
    await lab.writeProfile(`[interface]\nnic = ${lab.nic}\naddress = dhcp6\n`);
    const hostBefore = linkFacts((await snapshot(lab.host)).links.find((l) => l.ifname === lab.nic));
    await startServer(STATEFUL);
    const s = run();
    await ready(s, 'ready with a DHCPv6 lease');
    const l = await lease6();
    expect(l.address).to.match(/^2001:db8:30::1[0-9a-f]{2}\/128$/);
    expect(l).to.include({ dns: '2001:db8:30::53', lease: '120' });
    expect(await addrs6()).to.deep.equal([l.address]);
    expect(await fsp.readFile(dnsFile(), 'utf8')).to.match(/^# generated by oob.*\nnameserver 2001:db8:30::53\n$/);
    // dnsmasq sends RAs, but without auto the namespace takes none: no SLAAC address, no RA route
    expect(await sysctl('accept_ra')).to.equal('0');
    expect(await default6()).to.deep.equal([]);
    const ip = l.address!.split('/')[0]!;
    expect(await fsp.readFile(leases(), 'utf8')).to.include(` ${ip} `);
    const st = await status();
    expect(st.dhcp6).to.include({ address: l.address, valid: true });
    expect(st.health, st.problems.join('; ')).to.equal('ok');
    // oob's dhcpcd kept its files in its own directories, never in the built-in ones
    const own = readdirSync(path.join(lab.runtimeDir, lab.profile, 'dhcp6.db'));
    expect(own.some((f) => f.endsWith('.lease6'))).to.equal(true);
    expect(listing(DB_DHCPCD)).to.deep.equal(dbBefore);

    // killed: restarted by the supervisor, the same address (its lease kept in its own db)
    await new Promise((r) => setTimeout(r, 1100));
    const pid = (await state())!.services.dhcp6!.pid!;
    process.kill(pid, 'SIGKILL');
    await told(s, 'dhcpcd restarted', async () => {
      const sv = (await state())?.services.dhcp6;
      return sv?.phase === 'running' && sv.pid !== pid && sv.restarts === 1;
    });
    await told(s, 'the lease again', async () => Number((await lease6()).obtained) > Number(l.obtained));
    expect((await lease6()).address).to.equal(l.address);
    expect(await addrs6()).to.deep.equal([l.address]);

    await stopped(s);
    await waitFor('the release in the server', async () => !(await fsp.readFile(leases(), 'utf8')).includes(` ${ip} `));
    expect(await fsp.readFile(path.join(lab.dir, 'dnsmasq.log'), 'utf8')).to.match(/DHCPRELEASE\(r0\)/);
    expect(linkFacts((await snapshot(lab.host)).links.find((l) => l.ifname === lab.nic))).to.deep.equal(hostBefore);
    expect(existsSync(path.join(lab.runtimeDir, lab.profile))).to.equal(false);
  });

  it("auto: a SLAAC address from the router's RA and the default route via its link-local address; status shows it", async () => {
    await lab.writeProfile(`[interface]\nnic = ${lab.nic}\naddress = auto\n`);
    await startServer(RA_ONLY);
    const s = run();
    await ready(s, 'ready with a SLAAC address');
    const a = await addrs6();
    expect(a).to.have.length(1);
    expect(a[0]).to.match(/^2001:db8:30:[0-9a-f:]+\/64$/);
    expect(await default6()).to.deep.equal([`${await routerLinkLocal()} ra`]);
    expect(await sysctl('accept_ra')).to.equal('2');
    const st = await status();
    expect(st.slaac).to.deep.equal({ addresses: a });
    expect(st.health, st.problems.join('; ')).to.equal('ok');
    await stopped(s);
  });

  it('a static profile on a LAN that sends RAs takes none: no SLAAC address, no RA default route (a fresh namespace would)', async () => {
    await lab.writeProfile(`[interface]\nnic = ${lab.nic}\naddress = 10.20.30.1/24\n`);
    await startServer(RA_ONLY);
    const up = await lab.oob(['up', lab.profile]);
    expect(up.code, up.stderr).to.equal(0);
    expect(await sysctl('accept_ra')).to.equal('0');
    // the NIC came up and solicited; dnsmasq answers an RS at once and the kernel configures within a second or so
    await new Promise((r) => setTimeout(r, 4000));
    expect(await addrs6()).to.deep.equal([]);
    expect(await default6()).to.deep.equal([]);
    const down = await lab.oob(['down', lab.profile]);
    expect(down.code, down.stderr).to.equal(0);
  });

  it("mixed static + dhcp + dhcp6 + auto: every address, one resolv.conf with both leases' servers", async () => {
    await lab.writeProfile(`[interface]\nnic = ${lab.nic}\naddress = 10.20.30.1/24, dhcp, dhcp6, auto\n`);
    await startServer(['--dhcp-range=::100,::1ff,constructor:r0,slaac,64,2m']);
    const s = run();
    await ready(s, 'ready with both leases and SLAAC');
    const l6 = (await lease6()).address!;
    const a6 = await addrs6();
    expect(a6).to.include(l6);
    expect(a6.filter((x) => x.endsWith('/64'))).to.have.length(1);
    const v4 = (await nic()).addrs.filter((a) => a.family === 'inet').map((a) => a.local);
    expect(v4).to.include('10.20.30.1');
    expect(v4).to.have.length(2);
    await waitFor('both name servers', async () => {
      const t = await fsp.readFile(dnsFile(), 'utf8');
      return t.includes('nameserver 10.20.30.53\n') && t.includes('nameserver 2001:db8:30::53\n');
    });
    const st = await status();
    expect(st.health, st.problems.join('; ')).to.equal('ok');
    expect([st.dhcp.valid, st.dhcp6.valid, st.slaac.addresses.length]).to.deep.equal([true, true, 1]);
    await stopped(s);
  });

  // dnsmasq's shortest lease is two minutes (it raises anything shorter): this test waits that out,
  // for the DHCPv4 and the DHCPv6 lease at once, on the real clock
  it("the server gone past the leases' expiry: status degraded (not down: the static address stays), doctor fails both", async function () {
    this.timeout(200_000);
    await lab.writeProfile(`[interface]\nnic = ${lab.nic}\naddress = 10.20.30.1/24, dhcp, dhcp6\n`);
    await startServer(STATEFUL);
    const s = run();
    await ready(s, 'ready with both leases');
    const before = await status();
    const expires = Math.max(Date.parse(before.dhcp.expires), Date.parse(before.dhcp6.expires));
    await stopServer();
    await new Promise((r) => setTimeout(r, expires - Date.now() + 3000));
    const st = await waitFor('both leases gone', async () => {
      const x = await status();
      return !x.dhcp.valid && !x.dhcp6.valid ? x : undefined;
    });
    expect(st.health).to.equal('degraded');
    expect(st.problems.join('\n'))
      .to.match(/DHCP lease/)
      .and.match(/DHCPv6 lease/);
    expect(st.addresses).to.deep.equal(['10.20.30.1/24']);
    const doc = await lab.oob(['doctor', lab.profile]);
    expect(doc.stdout)
      .to.match(/FAIL.*DHCP lease/)
      .and.match(/FAIL.*DHCPv6 lease/);
    // the clients keep asking: both still run
    const sv = (await state())!.services;
    expect([sv.dhcp4!.phase, sv.dhcp6!.phase]).to.deep.equal(['running', 'running']);
    await stopped(s);
  });

  it('bad values: one line, exit 3, nothing changed', async () => {
    for (const bad of ['dhcp6, dhcp6', 'auto, AUTO', 'dhcp7']) {
      await lab.writeProfile(`[interface]\nnic = ${lab.nic}\naddress = ${bad}\n`);
      const r = await lab.oob(['up', lab.profile]);
      expect(r.code, r.stderr).to.equal(3);
      expect(r.stderr.trim().split('\n'), r.stderr).to.have.length(1);
      expect(r.stderr).to.match(/\[interface\] address: /);
    }
    expect(await lab.namespaces()).not.to.include(lab.profile);
  });

  it('cannot touch the host: a host-side dhcpcd in manager mode, with the built-in paths, at the same time keeps its control socket, lease, addresses, routes; /etc/resolv.conf unchanged', async () => {
    const hash = async () =>
      createHash('sha256')
        .update(await fsp.readFile('/etc/resolv.conf'))
        .digest('hex');
    const etcBefore = await hash();
    await must(['ip', '-n', lab.host, 'link', 'add', 'h1', 'type', 'veth', 'peer', 'name', 'r1', 'netns', lab.router]);
    await must(['ip', '-n', lab.router, '-batch', '-'], 'addr add 2001:db8:31::20/64 dev r1 nodad\nlink set r1 up\n');
    // the host side takes no RA (its routes would change with the router's timing, not with oob)
    await must(['ip', 'netns', 'exec', lab.host, 'sysctl', '-q', '-w', 'net.ipv6.conf.h1.accept_ra=0']);
    await must(['ip', '-n', lab.host, 'link', 'set', 'h1', 'up']);
    withR1 = true;
    await startServer([...STATEFUL, '--dhcp-range=::100,::1ff,constructor:r1,64,2m']);
    // the host's dhcpcd: the same configuration and hook, but the built-in /run/dhcpcd and
    // /var/lib/dhcpcd, in manager mode (its control socket /run/dhcpcd/sock: what dhcpcd#241 reached)
    const { HOOK6_SCRIPT, DHCPCD_CONF } = await import('../../src/profile/dhcp6.js');
    const hook = path.join(lab.dir, 'host-hook');
    const conf = path.join(lab.dir, 'host.conf');
    // as oob's wrapper does: dhcpcd gives its hook an environment of its own, the settings go in the script
    const hostLease = path.join(lab.dir, 'host.lease');
    await fsp.writeFile(
      hook,
      `#!/bin/sh\nOOB_LEASE='${hostLease}' OOB_DNS=0 OOB_DNSFILE= OOB_DNSPART= OOB_DNSPARTS=\n${HOOK6_SCRIPT}`,
      {
        mode: 0o700,
      },
    );
    // manager mode takes the IA in the interface's block
    await fsp.writeFile(conf, `${DHCPCD_CONF.replace('ia_na 1\n', '')}interface h1\nia_na 1\n`);
    const hostClient = spawn(
      'ip',
      ['netns', 'exec', lab.host, 'dhcpcd', '-B', '-M', '-f', conf, '-c', hook, '--allowinterfaces', 'h1'],
      { stdio: 'ignore' },
    );
    procs.push(hostClient);
    await waitFor('the host-side lease', async () => existsSync(hostLease));
    const hostBefore = await snapshot(lab.host);
    const hostLeaseBefore = await fsp.readFile(hostLease, 'utf8');
    const runNow = listing(RUN_DHCPCD);
    expect(runNow).to.include('sock');
    const sockIno = (await fsp.stat(path.join(RUN_DHCPCD, 'sock'))).ino;
    const dbNow = listing(DB_DHCPCD);

    await lab.writeProfile(`[interface]\nnic = ${lab.nic}\naddress = dhcp6\n`);
    const s = run();
    await ready(s, 'ready');
    // our client asks again while both run (killed: the supervisor restarts it, it confirms its lease)
    process.kill((await state())!.services.dhcp6!.pid!, 'SIGKILL');
    await waitFor('restarted', async () => (await state())?.services.dhcp6?.restarts === 1 && (await state())?.ready);
    const h1 = (x: typeof hostBefore) => linkFacts(x.links.find((l) => l.ifname === 'h1'));
    const routes = (x: typeof hostBefore) =>
      x.routes.filter((r) => r.dev === 'h1' || r.dst === 'default').map((r) => `${r.dst} ${r.gateway} ${r.protocol}`);
    const hostNow = await snapshot(lab.host);
    expect(h1(hostNow)).to.deep.equal(h1(hostBefore));
    expect(routes(hostNow)).to.deep.equal(routes(hostBefore));
    expect(await fsp.readFile(hostLease, 'utf8')).to.equal(hostLeaseBefore);
    // the host's socket and files are the ones it made: ours never appeared there
    expect(listing(RUN_DHCPCD)).to.deep.equal(runNow);
    expect((await fsp.stat(path.join(RUN_DHCPCD, 'sock'))).ino).to.equal(sockIno);
    expect(listing(DB_DHCPCD)).to.deep.equal(dbNow);
    // and the two have different identities (DUIDs): the server gave two leases
    expect((await lease6()).address).to.match(/^2001:db8:30::/);
    await stopped(s);
    expect(hostClient.exitCode).to.equal(null);
    expect(h1(await snapshot(lab.host))).to.deep.equal(h1(hostBefore));
    expect(await hash()).to.equal(etcBefore);
    // the host's dhcpcd answers on its control socket still (it was never replaced)
    const q = await sh(['ip', 'netns', 'exec', lab.host, 'dhcpcd', '-6', '-U', 'h1']);
    expect(q.stdout, q.stderr).to.match(/dhcp6_ia_na1_ia_addr1=2001:db8:31::/);
  });
});
