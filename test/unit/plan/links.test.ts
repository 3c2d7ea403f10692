import { expect } from 'chai';
import { stepCommand } from '../../../src/engine/apply.js';
import { OobError } from '../../../src/errors.js';
import { bridgeMac, planLinksDown, planLinksUp } from '../../../src/plan/links.js';
import type { Observation } from '../../../src/observe/types.js';
import { host, link, profile, route, v4 } from '../helpers.js';

const RED = `[interface]\nnic = ens19\naddress = 10.20.30.1/24\n[veth]\nname = veth-red\nhost-name = veth-red-br\naddress = 192.168.15.1/24\nbridge = v-net-0\nbridge-address = 192.168.15.5/24\n`;
const BLUE = `[interface]\nnic = ens20\naddress = 10.20.31.1/24\n[veth]\nname = veth-blue\nhost-name = veth-blue-br\naddress = 192.168.15.2/24\nbridge = v-net-0\nbridge-address = 192.168.15.5/24\n[routes]\nnamespace = 192.168.1.0/24 via 192.168.15.5\nhost = 10.99.0.0/16 via 192.168.15.2\n`;
const cmds = (steps: { kind: string }[]) => steps.map((s) => stepCommand(s as never));

/** The host and the two namespaces after `up red blue`. */
function applied(): Observation[] {
  const h = host();
  const links = [
    ...h.host.links,
    link('v-net-0', { ifindex: 10, alias: 'oob-bridge:v-net-0', addrs: [v4('192.168.15.5')] }),
    link('veth-red-br', { ifindex: 11, alias: 'oob-veth:red', master: 'v-net-0', addrs: [] }),
    link('veth-blue-br', { ifindex: 12, alias: 'oob-veth:blue', master: 'v-net-0', addrs: [] }),
  ];
  const hostRoutes = [...h.host.routes, route('10.99.0.0/16', 'v-net-0', { gateway: '192.168.15.2', protocol: '79' })];
  const ns = (name: string, addr: string, routes = [] as ReturnType<typeof route>[]) => ({
    ...h,
    host: { ...h.host, links, routes: hostRoutes },
    namespaces: ['red', 'blue'],
    ns: { links: [link('lo', { ifindex: 1 }), link(name, { ifindex: 2, addrs: [v4(addr)] })], routes },
  });
  return [
    ns('veth-red', '192.168.15.1'),
    ns('veth-blue', '192.168.15.2', [
      route('192.168.1.0/24', 'veth-blue', { gateway: '192.168.15.5', protocol: '79' }),
    ]),
  ];
}

describe('plan/links: veth, shared bridge, routes', () => {
  it("a bridge's MAC: locally administered unicast, the same for a name every time, another for another name", () => {
    expect(bridgeMac('v-net-0')).to.match(/^02:0b(:[0-9a-f]{2}){4}$/);
    expect(bridgeMac('v-net-0')).to.equal(bridgeMac('v-net-0'));
    expect(bridgeMac('v-net-1')).not.to.equal(bridgeMac('v-net-0'));
  });

  it('up red blue on a fresh host: the bridge created once, each veth made a port, addresses, routes', () => {
    const [r, b] = planLinksUp([profile(RED, 'red'), profile(BLUE, 'blue')], [host(), host()]);
    expect(cmds(r!)).to.deep.equal([
      'ip link add v-net-0 type bridge',
      'ip link set dev v-net-0 alias oob-bridge:v-net-0',
      `ip link set dev v-net-0 address ${bridgeMac('v-net-0')}`,
      'ip link set dev v-net-0 up',
      'ip addr add 192.168.15.5/24 brd + dev v-net-0',
      'ip link add veth-red-br type veth peer name veth-red netns red',
      'ip link set dev veth-red-br alias oob-veth:red',
      'ip link set dev veth-red-br master v-net-0',
      'ip link set dev veth-red-br up',
      'ip -n red addr add 192.168.15.1/24 brd + dev veth-red',
      'ip -n red link set dev veth-red up',
    ]);
    expect(cmds(b!)).to.deep.equal([
      'ip link add veth-blue-br type veth peer name veth-blue netns blue',
      'ip link set dev veth-blue-br alias oob-veth:blue',
      'ip link set dev veth-blue-br master v-net-0',
      'ip link set dev veth-blue-br up',
      'ip -n blue addr add 192.168.15.2/24 brd + dev veth-blue',
      'ip -n blue link set dev veth-blue up',
      'ip -n blue route replace 192.168.1.0/24 via 192.168.15.5 proto 79',
      'ip route replace 10.99.0.0/16 via 192.168.15.2 proto 79',
    ]);
    expect(cmds(r![0]!.undo)).to.deep.equal(['ip link del v-net-0']);
  });

  it('applied: nothing to do', () => {
    const s = applied();
    expect(planLinksUp([profile(RED, 'red'), profile(BLUE, 'blue')], s).flat()).to.deep.equal([]);
  });

  it('a changed profile converges: an address and a route replaced, each with its undo', () => {
    const s = applied();
    const changed = BLUE.replace('192.168.15.2/24', '192.168.15.3/24').replace(
      'namespace = 192.168.1.0/24',
      'namespace = 192.168.2.0/24',
    );
    const [b] = planLinksUp([profile(changed.replace('via 192.168.15.2', 'via 192.168.15.3'), 'blue')], [s[1]!]);
    expect(cmds(b!)).to.deep.equal([
      'ip -n blue addr add 192.168.15.3/24 brd + dev veth-blue',
      'ip -n blue addr del 192.168.15.2/24 dev veth-blue',
      'ip -n blue route replace 192.168.2.0/24 via 192.168.15.5 proto 79',
      'ip -n blue route del 192.168.1.0/24 via 192.168.15.5 proto 79',
      'ip route replace 10.99.0.0/16 via 192.168.15.3 proto 79',
    ]);
    expect(cmds(b![3]!.undo)).to.deep.equal(['ip -n blue route replace 192.168.1.0/24 via 192.168.15.5 proto 79']);
    expect(cmds(b![4]!.undo)).to.deep.equal(['ip route replace 10.99.0.0/16 via 192.168.15.2 proto 79']);
  });

  it('refuses a bridge or host-end name taken by a link oob did not create', () => {
    const h = host();
    const taken = (name: string) => ({
      ...h,
      host: { ...h.host, links: [...h.host.links, link(name, { ifindex: 9 })] },
    });
    expect(() => planLinksUp([profile(RED, 'red')], [taken('v-net-0')]))
      .to.throw(OobError)
      .with.property('message')
      .that.matches(/bridge: v-net-0 is a link in the host that oob did not create/);
    expect(() => planLinksUp([profile(RED, 'red')], [taken('veth-red-br')]))
      .to.throw(OobError)
      .with.property('message')
      .that.matches(/host-name: veth-red-br is a link in the host that oob did not create/);
  });

  it('down: one profile leaves the shared bridge; both in one call delete it once, with the last', () => {
    const s = applied();
    expect(planLinksDown(['red'], [s[0]!]).map(cmds)).to.deep.equal([['ip link del veth-red-br']]);
    expect(planLinksDown(['red', 'blue'], s).map(cmds)).to.deep.equal([
      ['ip link del veth-red-br'],
      ['ip route del 10.99.0.0/16 via 192.168.15.2 proto 79', 'ip link del veth-blue-br', 'ip link del v-net-0'],
    ]);
  });

  it("down deletes a bridge of oob's left with no port (its namespaces deleted by hand)", () => {
    const h = host();
    const s = {
      ...h,
      host: { ...h.host, links: [...h.host.links, link('v-net-0', { ifindex: 10, alias: 'oob-bridge:v-net-0' })] },
    };
    expect(planLinksDown(['red', 'blue'], [s, s]).map(cmds)).to.deep.equal([['ip link del v-net-0'], []]);
  });

  it("down leaves a bridge that is not oob's, and one with a port of someone else's", () => {
    const s = applied().map((o) => ({
      ...o,
      host: { ...o.host, links: [...o.host.links, link('tap0', { ifindex: 20, master: 'v-net-0' })] },
    }));
    expect(
      planLinksDown(['red', 'blue'], s)
        .flat()
        .map((x) => stepCommand(x)),
    ).not.to.include('ip link del v-net-0');
  });
});
