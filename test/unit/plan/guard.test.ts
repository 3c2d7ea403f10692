import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { OobError } from '../../../src/errors.js';
import { parseLinks, parseRoutes, parseRules, splitBatchJson, type Link, type Rule } from '../../../src/net/ipjson.js';
import type { SshSession } from '../../../src/observe/types.js';
import { lockoutReasons, nicStack, resolveRoute, type GuardView } from '../../../src/plan/guard.js';
import { planUp } from '../../../src/plan/up.js';
import { host, link, paths, profile, route, v4 } from '../helpers.js';

const rule = (priority: number, o: Partial<Rule> = {}): Rule => ({
  priority,
  family: 4,
  not: false,
  l3mdev: false,
  action: 'lookup',
  table: 'main',
  ...o,
});
const KERNEL = [rule(0, { table: 'local' }), rule(32766), rule(32767, { table: 'default' })];
/** The host: eth0 (192.0.2.2, the default route) and the spare NIC ens19 (10.0.0.5). */
const eth0 = link('eth0', { ifindex: 2, addrs: [v4('192.0.2.2')] });
const nic = link('ens19', { ifindex: 3, addrs: [v4('10.0.0.5')] });
const view = (o: Partial<GuardView> = {}): GuardView => ({
  links: [eth0, nic],
  routes: [route('default', 'eth0', { gateway: '192.0.2.1' }), route('10.0.0.0/24', 'ens19', { protocol: 'kernel' })],
  rules: KERNEL,
  ...o,
});
const ssh = (local: string, client: string, o: Partial<SshSession> = {}): SshSession => ({
  local,
  client,
  localPort: 22,
  clientPort: 50000,
  found: { by: 'sshd', pid: 4711 },
  ...o,
});

describe("plan/guard: default routes of every table a rule sends the host's traffic to", () => {
  it('sees nothing on a host whose default leaves through eth0', () => {
    expect(lockoutReasons(nic, view())).to.deep.equal([]);
  });
  it('refuses when a rule for all traffic, before main, picks a table whose default leaves through the NIC', () => {
    const v = view({
      routes: [...view().routes, route('default', 'ens19', { gateway: '10.0.0.1', table: '100' })],
      rules: [KERNEL[0]!, rule(1000, { table: '100' }), ...KERNEL.slice(1)],
    });
    const r = lockoutReasons(nic, v);
    expect(r).to.have.length(1);
    expect(r[0]).to.equal(
      "ens19 carries the host's IPv4 default route (default via 10.0.0.1 dev ens19 table 100, chosen by rule 1000: from all lookup 100): moving it would cut the host off",
    );
  });
  it("refuses when a rule sends traffic from one of the host's other addresses to such a table (from <eth0's address> lookup 100)", () => {
    const routes = [...view().routes, route('default', 'ens19', { gateway: '10.0.0.1', table: '100' })];
    const r = lockoutReasons(
      nic,
      view({ routes, rules: [KERNEL[0]!, rule(100, { src: '192.0.2.2/32', table: '100' }), ...KERNEL.slice(1)] }),
    );
    expect(r).to.deep.equal([
      "ens19 carries the IPv4 default route of table 100 (default via 10.0.0.1 dev ens19 table 100), where rule 100: from 192.0.2.2/32 lookup 100 sends the host's traffic: moving it would cut that traffic off",
    ]);
    // the NIC's own source routing (from its own address) is its own traffic: moving it is the point
    expect(
      lockoutReasons(
        nic,
        view({ routes, rules: [KERNEL[0]!, rule(100, { src: '10.0.0.5/32', table: '100' }), ...KERNEL.slice(1)] }),
      ),
    ).to.deep.equal([]);
    // a mark or a user selects part of the host's traffic too
    expect(
      lockoutReasons(
        nic,
        view({ routes, rules: [rule(100, { fwmark: 1, fwmask: 0xffffffff, table: '100' }), ...KERNEL] }),
      ),
    ).to.have.length(1);
    expect(
      lockoutReasons(nic, view({ routes, rules: [rule(100, { uid: [1000, 1000], table: '100' }), ...KERNEL] })),
    ).to.have.length(1);
  });
  it('respects priorities: a rule for all traffic whose table has a default decides, and the rules after it are never reached', () => {
    const routes = [
      ...view().routes,
      route('default', 'ens19', { gateway: '10.0.0.1', table: '100' }),
      route('default', 'eth0', { gateway: '192.0.2.1', table: '200' }),
    ];
    expect(
      lockoutReasons(
        nic,
        view({ routes, rules: [rule(500, { table: '200' }), rule(1000, { table: '100' }), ...KERNEL] }),
      ),
    ).to.deep.equal([]);
    expect(
      lockoutReasons(
        nic,
        view({ routes, rules: [rule(500, { table: '100' }), rule(1000, { table: '200' }), ...KERNEL] }),
      )[0],
    ).to.match(
      /^ens19 carries the host's IPv4 default route \(default via 10\.0\.0\.1 dev ens19 table 100, chosen by rule 500/,
    );
    // a table without a default does not decide: the lookup falls through to main
    expect(
      lockoutReasons(
        nic,
        view({
          routes: [...routes, route('default', 'ens19', { gateway: '10.0.0.1', metric: 10 })].filter(
            (r) => r.dev !== 'eth0' || r.table !== 'main',
          ),
          rules: [rule(500, { table: '300' }), ...KERNEL],
        }),
      )[0],
    ).to.match(/default via 10\.0\.0\.1 dev ens19\)/);
    // a catch-all goto jumps over what lies between
    const jump = [
      rule(500, { action: 'goto', goto: 32766, table: undefined } as Partial<Rule>),
      rule(600, { table: '100' }),
      ...KERNEL,
    ];
    expect(lockoutReasons(nic, view({ routes, rules: jump }))).to.deep.equal([]);
    expect(lockoutReasons(nic, view({ routes, rules: jump.filter((r) => r.priority !== 500) }))).to.have.length(1);
  });
  it('ignores a default that the rule suppresses (suppress_prefixlength 0), one past a blackhole, and one only reached for some destinations', () => {
    const routes = [...view().routes, route('default', 'ens19', { gateway: '10.0.0.1', table: '100' })];
    expect(
      lockoutReasons(nic, view({ routes, rules: [rule(100, { table: '100', suppressPrefixlen: 0 }), ...KERNEL] })),
    ).to.deep.equal([]);
    const onlyVia = view({ routes: [route('default', 'ens19', { gateway: '10.0.0.1' })] });
    expect(lockoutReasons(nic, onlyVia)).to.have.length(1);
    expect(
      lockoutReasons(nic, {
        ...onlyVia,
        rules: [rule(10, { action: 'blackhole', table: undefined } as Partial<Rule>), ...KERNEL],
      }),
    ).to.deep.equal([]);
    expect(
      lockoutReasons(nic, view({ routes, rules: [rule(100, { dst: '198.51.100.0/24', table: '100' }), ...KERNEL] })),
    ).to.deep.equal([]);
  });
  it("without observed rules assumes the kernel's (local, main, default), as before", () => {
    expect(
      lockoutReasons(nic, { links: [nic], routes: [route('default', 'ens19', { gateway: '10.0.0.1' })] })[0],
    ).to.match(/^ens19 carries the host's IPv4 default route \(default via 10\.0\.0\.1 dev ens19\): moving/);
    expect(
      lockoutReasons(nic, {
        links: [nic],
        routes: [route('default', 'ens19', { gateway: '2001:db8::1', family: 6, table: '100' })],
      }),
    ).to.deep.equal([]);
  });
  it('reads IPv6 rules too', () => {
    const routes = [
      route('default', 'eth0', { gateway: '2001:db8:1::1', family: 6 }),
      route('default', 'ens19', { gateway: '2001:db8::1', family: 6, table: '100' }),
    ];
    const v6 = [
      rule(0, { table: 'local', family: 6 }),
      rule(100, { family: 6, table: '100' }),
      rule(32766, { family: 6 }),
    ];
    expect(lockoutReasons(nic, view({ routes, rules: [...KERNEL, ...v6] }))[0]).to.match(
      /carries the host's IPv6 default route \(default via 2001:db8::1 dev ens19 table 100/,
    );
  });
});

describe("plan/guard: the NIC as a port of a bridge or bond, a VLAN's parent, a macvlan's lower device", () => {
  const port = link('ens19', { ifindex: 3, master: 'br0' });
  const br0 = link('br0', { ifindex: 4, kind: 'bridge', addrs: [v4('10.0.0.5')] });
  it('refuses a port of the bridge that carries the default route, naming the bridge', () => {
    const v: GuardView = {
      links: [eth0, port, br0],
      routes: [route('default', 'br0', { gateway: '10.0.0.1' })],
      rules: KERNEL,
    };
    expect(lockoutReasons(port, v)).to.deep.equal([
      "ens19 is a port of bridge br0, which carries the host's IPv4 default route (default via 10.0.0.1 dev br0): moving it would cut the host off",
    ]);
    expect(lockoutReasons(port, { ...v, routes: [route('default', 'eth0', { gateway: '192.0.2.1' })] })).to.deep.equal(
      [],
    );
  });
  it('walks upward: a port of a bond that is a port of a bridge; a VLAN on the NIC; a macvlan on it', () => {
    const links: Link[] = [
      eth0,
      link('ens19', { ifindex: 3, master: 'bond0' }),
      link('bond0', { ifindex: 5, kind: 'bond', master: 'br0' }),
      br0,
      link('ens19.7', { ifindex: 6, kind: 'vlan', parent: 'ens19' }),
      link('mv0', { ifindex: 7, kind: 'macvlan', parent: 'ens19.7' }),
      link('peer', { ifindex: 8, kind: 'veth', parent: 'ens19' }),
    ];
    const stack = nicStack(links[1]!, links);
    expect([...stack.keys()]).to.deep.equal(['ens19', 'bond0', 'ens19.7', 'br0', 'mv0']);
    expect(stack.get('br0')).to.equal('ens19 is a port of bond bond0 is a port of bridge br0');
    expect(stack.get('mv0')).to.equal('ens19 is the lower device of vlan ens19.7 is the lower device of macvlan mv0');
    const r = lockoutReasons(links[1]!, {
      links,
      routes: [route('default', 'mv0', { gateway: '10.0.0.1' })],
      rules: KERNEL,
    });
    expect(r[0]).to.match(
      /^ens19 is the lower device of vlan ens19\.7 is the lower device of macvlan mv0, which carries the host's IPv4 default route/,
    );
    // a veth's peer is not stacked on it
    expect(
      lockoutReasons(links[1]!, { links, routes: [route('default', 'peer', { gateway: '10.0.0.1' })], rules: KERNEL }),
    ).to.deep.equal([]);
  });
  it('sees an Open vSwitch bridge through the datapath both are ports of', () => {
    const links = [
      link('ens19', { master: 'ovs-system' }),
      link('ovs-system', { kind: 'openvswitch' }),
      link('br-ex', { kind: 'openvswitch', master: 'ovs-system' }),
    ];
    expect(
      lockoutReasons(links[0]!, { links, routes: [route('default', 'br-ex', { gateway: '10.0.0.1' })], rules: KERNEL }),
    ).to.have.length(1);
  });
  it("refuses a port of the bridge that holds the SSH session's local address, or carries its replies", () => {
    const v: GuardView = {
      links: [eth0, port, br0],
      routes: [
        route('default', 'eth0', { gateway: '192.0.2.1' }),
        route('203.0.113.0/24', 'br0', { gateway: '10.0.0.1' }),
      ],
      rules: KERNEL,
    };
    expect(lockoutReasons(port, v, ssh('10.0.0.5', '10.0.0.9'))).to.deep.equal([
      'ens19 is a port of bridge br0, which holds 10.0.0.5, the local address of your SSH session (sshd pid 4711, from 10.0.0.9 port 50000): moving it would cut you off',
    ]);
    expect(lockoutReasons(port, v, ssh('192.0.2.2', '203.0.113.7'))).to.deep.equal([
      "your SSH session's replies to 203.0.113.7 leave through br0, and ens19 is a port of bridge br0 (sshd pid 4711, from 203.0.113.7 port 50000): moving it would cut you off",
    ]);
    expect(lockoutReasons(port, v, ssh('192.0.2.2', '198.51.100.7'))).to.deep.equal([]);
  });
});

describe('plan/guard: the SSH session through policy routing, and IPv4-mapped addresses', () => {
  const routes = [
    route('default', 'eth0', { gateway: '192.0.2.1' }),
    route('default', 'ens19', { gateway: '10.0.0.1', table: '100' }),
  ];
  it("follows the rules for the session's replies: from its local address, to its port", () => {
    expect(lockoutReasons(nic, view({ routes }), ssh('192.0.2.2', '203.0.113.7'))).to.deep.equal([]);
    const bySource = [rule(0, { table: 'local' }), rule(100, { src: '192.0.2.0/24', table: '100' }), rule(32766)];
    const r = lockoutReasons(nic, view({ routes, rules: bySource }), ssh('192.0.2.2', '203.0.113.7'));
    expect(r.at(-1)).to.equal(
      "your SSH session's replies to 203.0.113.7 leave through ens19 (table 100, by rule 100: from 192.0.2.0/24 lookup 100) (sshd pid 4711, from 203.0.113.7 port 50000): moving it would cut you off",
    );
    const byPort = [
      rule(0, { table: 'local' }),
      rule(100, { ipproto: 'tcp', sport: [22, 22], table: '100' }),
      rule(32766),
    ];
    expect(lockoutReasons(nic, view({ routes, rules: byPort }), ssh('192.0.2.2', '203.0.113.7')).at(-1)).to.match(
      /replies to 203\.0\.113\.7 leave through ens19 \(table 100/,
    );
    const onPort = (localPort: number) =>
      lockoutReasons(nic, view({ routes, rules: byPort }), ssh('192.0.2.2', '203.0.113.7', { localPort })).filter((x) =>
        /SSH session/.test(x),
      );
    expect(onPort(22)).to.have.length(1);
    expect(onPort(2222)).to.deep.equal([]);
    // a marked rule does not take the session's packets (they carry no mark)
    expect(
      lockoutReasons(
        nic,
        view({ routes, rules: [rule(100, { fwmark: 0x10, fwmask: 0xff, table: '100' }), ...KERNEL] }),
        ssh('192.0.2.2', '203.0.113.7'),
      ).filter((x) => /SSH/.test(x)),
    ).to.deep.equal([]);
  });
  it('resolves a route the way the kernel does: rules, then longest prefix in the table, a throw route falls through', () => {
    const rs = [
      route('203.0.113.0/24', 'ens19', { table: '100', type: 'throw' }),
      route('default', 'ens19', { table: '100', gateway: '10.0.0.1' }),
      route('default', 'eth0', { gateway: '192.0.2.1' }),
    ];
    const hit = resolveRoute(
      { routes: rs, rules: [rule(100, { table: '100' }), ...KERNEL] },
      { src: '192.0.2.2', dst: '203.0.113.7' },
    );
    expect(hit?.route.dev).to.equal('eth0');
    expect(
      resolveRoute(
        { routes: rs, rules: [rule(100, { table: '100' }), ...KERNEL] },
        { src: '192.0.2.2', dst: '198.51.100.7' },
      )?.route.dev,
    ).to.equal('ens19');
  });
  it('compares IPv4-mapped IPv6 addresses (::ffff:10.0.0.5) as IPv4', () => {
    expect(lockoutReasons(nic, view(), ssh('::ffff:10.0.0.5', '::ffff:10.0.0.9'))[0]).to.match(
      /^ens19 holds 10\.0\.0\.5, the local address of your SSH session \(sshd pid 4711, from 10\.0\.0\.9 port 50000\)/,
    );
    const r = view({ routes: [...view().routes, route('203.0.113.0/24', 'ens19', { gateway: '10.0.0.1' })] });
    expect(lockoutReasons(nic, r, ssh('::ffff:192.0.2.2', '::ffff:203.0.113.7'))[0]).to.match(
      /replies to 203\.0\.113\.7 leave through ens19/,
    );
  });
});

describe('plan/guard over a real host (ip -j -d -batch of a namespace with a bridge, a macvlan and rules)', () => {
  // Saved from: printf 'addr show\nroute show table all\nrule show\n' | ip -n X -j -d -batch -  (iproute2 6.1)
  const [l, r, ru] = splitBatchJson(
    readFileSync(new URL('../../../../test/fixtures/host-rules-bridge-batch.json', import.meta.url), 'utf8'),
  );
  const v: GuardView = { links: parseLinks(l!), routes: parseRoutes(r!), rules: parseRules(ru!, 4) };
  const at = (n: string) => v.links.find((x) => x.ifname === n)!;
  it('refuses nic0, a port of br0 which carries the default route (through a goto over a blackhole)', () => {
    expect(lockoutReasons(at('nic0'), v).find((x) => /host's IPv4 default route/.test(x))).to.equal(
      "nic0 is a port of bridge br0, which carries the host's IPv4 default route (default via 10.0.0.1 dev br0): moving it would cut the host off",
    );
  });
  it('refuses nic1, the lower device of mv0, whose table 100 takes the traffic from 10.1.0.5', () => {
    expect(lockoutReasons(at('nic1'), v)).to.include(
      "nic1 is the lower device of macvlan mv0, which carries the IPv4 default route of table 100 (default via 10.1.0.1 dev mv0 table 100), where rule 100: from 10.1.0.5/32 lookup 100 sends the host's traffic: moving it would cut that traffic off",
    );
  });
  it('lets nic0p (a veth peer, nothing stacked on it) go', () => {
    expect(lockoutReasons(at('nic0p'), v)).to.deep.equal([]);
  });
});

describe('plan/up: the guard in the planner', () => {
  const SEED = `[interface]\nnic = ens19\naddress = 10.20.30.1/24\ngateway = 10.20.30.20\n`;
  const opts = { force: false, hostPid: 4242, now: '2026-11-22T00:00:00Z' };
  it('refuses a bridge port whose bridge carries the default route (exit code lockout), and with force says what it overrode', () => {
    const h = host();
    h.host.links = [
      ...h.host.links.map((x) => (x.ifname === 'ens19' ? { ...x, master: 'br0' } : x)),
      link('br0', { ifindex: 9, kind: 'bridge' }),
    ];
    h.host.routes = [route('default', 'br0', { gateway: '10.20.30.20' })];
    expect(() => planUp(profile(SEED), h, paths, opts))
      .to.throw(OobError, /refusing to move ens19: ens19 is a port of bridge br0, which carries/)
      .with.property('code', 'lockout');
    const forced = planUp(profile(SEED), h, paths, { ...opts, force: true });
    expect(forced.overridden).to.deep.equal([
      "ens19 is a port of bridge br0, which carries the host's IPv4 default route (default via 10.20.30.20 dev br0): moving it would cut the host off",
    ]);
    expect(planUp(profile(SEED), host(), paths, opts).overridden).to.deep.equal([]);
  });
});
