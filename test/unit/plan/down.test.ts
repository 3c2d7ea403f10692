import { expect } from 'chai';
import { stepCommand } from '../../../src/engine/apply.js';
import { planDown, returnName } from '../../../src/plan/down.js';
import { planUp } from '../../../src/plan/up.js';
import type { Observation } from '../../../src/observe/types.js';
import { host, link, paths, profile, route, v4 } from '../helpers.js';

const SEED = `[interface]\nnic = ens19\naddress = 10.20.30.1/24\ngateway = 10.20.30.20\n`;
const opts = { force: false, hostPid: 4242, now: '2026-11-22T00:00:00Z' };

/** The host after `up` of the seed, the NIC having had a host configuration of its own. */
function up(): Observation {
  const h = host();
  h.host.links[2] = link('ens19', {
    ifindex: 3,
    up: true,
    mtu: 1400,
    alias: 'spare',
    addrs: [
      v4('192.168.77.5'),
      { ...v4('192.168.78.5'), flags: ['noprefixroute'] },
      { ...v4('192.168.79.5'), dynamic: true },
    ],
  });
  h.host.routes.push(route('172.16.99.0/24', 'ens19', { gateway: '192.168.77.1', metric: 50 }));
  const rec = JSON.parse((planUp(profile(SEED), h, paths, opts).steps[0] as { content: string }).content);
  return {
    ...host(),
    host: {
      ...h.host,
      links: h.host.links.filter((l) => l.ifname !== 'ens19'),
      routes: h.host.routes.filter((r) => r.dev !== 'ens19'),
    },
    namespaces: ['mgmt'],
    ns: {
      links: [
        link('lo', { ifindex: 1 }),
        link('ens19', { ifindex: 3, alias: 'oob:mgmt:ens19', addrs: [v4('10.20.30.1')] }),
      ],
      routes: [route('default', 'ens19', { gateway: '10.20.30.20' })],
    },
    record: rec,
  };
}
const down = (s: Observation) => planDown('mgmt', s, paths, { hostPid: 4242 });

describe('plan/down: the way back', () => {
  it('moves the NIC out under a free name, renames it in the host, restores flags (not the DHCP lease), the mark last; each step needs the one before', () => {
    const p = down(up());
    expect(p.left).to.deep.equal([]);
    expect(p.notes).to.deep.equal([
      '192.168.79.5/24 was a DHCP/SLAAC address of ens19: not put back as a permanent one; its client gets it again',
    ]);
    expect(p.steps.map(stepCommand)).to.deep.equal([
      'kill $(ip netns pids mgmt)  (SIGTERM, then SIGKILL after 5 s)',
      'ip -n mgmt link set dev ens19 down',
      'ip -n mgmt link set dev ens19 name oobret3',
      'ip -n mgmt link set dev oobret3 netns 4242',
      'ip link set dev oobret3 name ens19',
      'ip link set dev ens19 mtu 1400',
      'ip addr add 192.168.77.5/24 brd + dev ens19',
      'ip addr add 192.168.78.5/24 brd + dev ens19 noprefixroute',
      'ip link set dev ens19 up',
      'ip route replace 172.16.99.0/24 via 192.168.77.1 dev ens19 metric 50',
      'ip link set dev ens19 alias spare',
      'ip netns del mgmt',
      'rm -f /run/oob/mgmt/nic.json',
    ]);
    const by = (cmd: string) => p.steps.find((s) => stepCommand(s) === cmd)!;
    expect(by('ip -n mgmt link set dev oobret3 netns 4242').needs).to.deep.equal(['mgmt:tmpname']);
    expect(by('ip link set dev oobret3 name ens19').needs).to.deep.equal(['mgmt:out']);
    expect(by('ip link set dev ens19 mtu 1400').needs).to.deep.equal(['mgmt:out', 'mgmt:name']);
    expect(by('ip netns del mgmt').needs).to.deep.equal(['mgmt:kill', 'mgmt:out']);
    expect(by('rm -f /run/oob/mgmt/nic.json').needs).to.include.members([
      'mgmt:out',
      'mgmt:name',
      'mgmt:restore0',
      'mgmt:restore5',
    ]);
  });

  it('picks a return name that is free in the host and in the namespace', () => {
    expect(returnName(link('x', { ifindex: 7 }), ['oobret7', 'oobret7a'])).to.equal('oobret7b');
  });

  it("the NIC's name taken in the host: it comes back under the free name, nothing is applied to the other link, the record stays, and it says so", () => {
    const s = up();
    s.host.links.push(link('ens19', { ifindex: 9, mac: '02:00:00:00:00:09' }));
    const p = down(s);
    const c = p.steps.map(stepCommand);
    expect(c).to.include('ip -n mgmt link set dev oobret3 netns 4242');
    expect(
      c.filter((x) => / ens19( |$)/.test(x) && !x.startsWith('ip -n mgmt')),
      'nothing touches the link named ens19 in the host',
    ).to.deep.equal([]);
    expect(c).not.to.include('rm -f /run/oob/mgmt/nic.json');
    expect(p.left[0]).to.match(
      /^ens19 is back in the host as oobret3, not under its own name: the name ens19 is taken by another link \(ifindex 9\).*record is kept/,
    );
  });

  it("a second down finds the NIC under its return name by oob's mark, and finishes once the name is free", () => {
    const s = up();
    s.namespaces = [];
    delete s.ns;
    s.host.links.push(link('oobret3', { ifindex: 3, up: false, alias: 'oob:mgmt:ens19', mtu: 1400 }));
    const p = down(s);
    expect(p.left).to.deep.equal([]);
    expect(p.steps.map(stepCommand)).to.deep.equal([
      'ip link set dev oobret3 name ens19',
      'ip addr add 192.168.77.5/24 brd + dev ens19',
      'ip addr add 192.168.78.5/24 brd + dev ens19 noprefixroute',
      'ip link set dev ens19 up',
      'ip route replace 172.16.99.0/24 via 192.168.77.1 dev ens19 metric 50',
      'ip link set dev ens19 alias spare',
      'rm -f /run/oob/mgmt/nic.json',
    ]);
  });

  it('after a partial restore, only what is still missing (an address already back is not added twice)', () => {
    const s = up();
    s.namespaces = [];
    delete s.ns;
    s.host.links.push(
      link('ens19', { ifindex: 3, up: true, alias: 'oob:mgmt:ens19', mtu: 1400, addrs: [v4('192.168.77.5')] }),
    );
    s.host.routes.push(route('172.16.99.0/24', 'ens19', { gateway: '192.168.77.1', metric: 50 }));
    expect(down(s).steps.map(stepCommand)).to.deep.equal([
      'ip addr add 192.168.78.5/24 brd + dev ens19 noprefixroute',
      'ip link set dev ens19 alias spare',
      'rm -f /run/oob/mgmt/nic.json',
    ]);
  });

  it('a NIC neither in the namespace nor in the host: nothing planned, nothing deleted, reported as lost', () => {
    const s = up();
    s.ns!.links = [link('lo', { ifindex: 1 })];
    const p = down(s);
    expect(p.steps).to.deep.equal([]);
    expect(p.lost).to.deep.equal({ name: 'ens19', mac: '52:54:00:00:00:19' });
  });
});
