import { expect } from 'chai';
import { parseProfile, ProfileProblems } from '../../../src/profile/parse.js';

const NIC = `[interface]\nnic = ens19\naddress = 10.20.30.1/24\n`;
const problems = (text: string) => {
  const p = parseProfile('red', '/p/red.ini', text);
  expect(p).to.be.instanceOf(ProfileProblems);
  return (p as ProfileProblems).lines();
};

describe('profile/links: [veth] and [routes]', () => {
  it('reads a veth on a bridge with the host address and routes both ways', () => {
    const p = parseProfile(
      'red',
      '/p/red.ini',
      NIC +
        `[veth]\nname = veth-red\nhost-name = veth-red-br\naddress = 192.168.15.1/24\nbridge = v-net-0\nbridge-address = 192.168.15.5/24\n` +
        `[routes]\nnamespace = 192.168.1.0/24 via 192.168.15.5, 10.1.2.3 via 192.168.15.5\nhost = 10.99.0.0/16 via 192.168.15.1\n`,
    );
    if (p instanceof ProfileProblems) throw new Error(p.lines().join('\n'));
    expect(p.links?.veth).to.deep.equal({
      name: 'veth-red',
      hostName: 'veth-red-br',
      addresses: [{ family: 4, address: '192.168.15.1', prefixlen: 24 }],
      hostAddresses: [],
      bridge: 'v-net-0',
      bridgeAddresses: [{ family: 4, address: '192.168.15.5', prefixlen: 24 }],
    });
    expect(p.links?.nsRoutes).to.deep.equal([
      { dst: '192.168.1.0/24', via: '192.168.15.5', family: 4 },
      { dst: '10.1.2.3', via: '192.168.15.5', family: 4 },
    ]);
    expect(p.links?.hostRoutes).to.deep.equal([{ dst: '10.99.0.0/16', via: '192.168.15.1', family: 4 }]);
  });

  it('a profile without the sections has no links', () => {
    const p = parseProfile('red', '/p/red.ini', NIC);
    expect(p).not.to.be.instanceOf(ProfileProblems);
    expect((p as { links?: unknown }).links).to.equal(undefined);
  });

  it('names: missing, too long, the same for both ends, the bridge named like an end', () => {
    expect(problems(NIC + `[veth]\naddress = 192.168.15.1/24\n`)).to.deep.equal([
      '/p/red.ini:4: [veth] name: missing: name the end in the namespace, e.g. name = veth-red',
      '/p/red.ini:4: [veth] host-name: missing: name the end in the host, e.g. host-name = veth-red-br',
    ]);
    expect(problems(NIC + `[veth]\nname = a\nhost-name = abcdefghijklmnop\n`)).to.deep.equal([
      '/p/red.ini:6: [veth] host-name: "abcdefghijklmnop" is 16 bytes long; Linux interface names are at most 15 bytes',
    ]);
    expect(problems(NIC + `[veth]\nname = a\nhost-name = a\nbridge = a\n`)).to.deep.equal([
      '/p/red.ini:6: [veth] host-name: "a" is also the namespace end\'s name: give the two ends different names',
      '/p/red.ini:7: [veth] bridge: "a" is also the name of a veth end: give the bridge its own name',
    ]);
  });

  it('addresses: a bridge port takes none, bridge-address needs a bridge, the NIC subnet overlaps, one address on both ends', () => {
    expect(
      problems(NIC + `[veth]\nname = a\nhost-name = b\nbridge = br\nhost-address = 192.168.15.5/24\n`),
    ).to.deep.equal([
      "/p/red.ini:8: [veth] host-address: the host end is a port of bridge br and takes no address: put the host's address on the bridge (bridge-address =), or drop bridge =",
    ]);
    expect(problems(NIC + `[veth]\nname = a\nhost-name = b\nbridge-address = 192.168.15.5/24\n`)).to.deep.equal([
      '/p/red.ini:7: [veth] bridge-address: no bridge = in this section: name the bridge, or use host-address =',
    ]);
    expect(problems(NIC + `[veth]\nname = a\nhost-name = b\naddress = 10.20.30.9/25\n`)).to.deep.equal([
      "/p/red.ini:7: [veth] address: 10.20.30.9/25 overlaps the NIC's subnet 10.20.30.0/24: two links of one namespace need separate subnets",
    ]);
    expect(
      problems(NIC + `[veth]\nname = a\nhost-name = b\naddress = 192.168.16.1/24\nhost-address = 192.168.16.1/24\n`),
    ).to.deep.equal([
      "/p/red.ini:7: [veth] address: 192.168.16.1 is also the host's address on this link: give each end its own",
    ]);
  });

  it('routes: form, host bits, gateway reachable from the namespace, host routes through the veth only', () => {
    const V = NIC + `[veth]\nname = a\nhost-name = b\naddress = 192.168.15.1/24\nhost-address = 192.168.15.5/24\n`;
    expect(problems(V + `[routes]\nnamespace = 192.168.1.0/24 192.168.15.5\n`)).to.deep.equal([
      '/p/red.ini:10: [routes] namespace: "192.168.1.0/24 192.168.15.5" is not a route like 192.168.1.0/24 via 192.168.15.5 (several: separate with commas)',
    ]);
    expect(problems(V + `[routes]\nnamespace = 192.168.1.7/24 via 192.168.15.5\n`)).to.deep.equal([
      '/p/red.ini:10: [routes] namespace: 192.168.1.7/24 has host bits set: the destination is the subnet 192.168.1.0/24',
    ]);
    expect(problems(V + `[routes]\nnamespace = 192.168.1.0/24 via 172.16.0.1\n`)).to.deep.equal([
      '/p/red.ini:10: [routes] namespace: 192.168.1.0/24 via 172.16.0.1: 172.16.0.1 is outside every subnet of the namespace (192.168.15.1/24, 10.20.30.1/24): the gateway must be reachable from inside the namespace',
    ]);
    expect(problems(V + `[routes]\nhost = 10.99.0.0/16 via 192.168.15.5\n`)).to.deep.equal([
      "/p/red.ini:10: [routes] host: 10.99.0.0/16 via 192.168.15.5: a host route goes through the namespace's end of the veth: use one of its addresses (192.168.15.1)",
    ]);
    expect(problems(V + `[routes]\nnamespace = default via 192.168.15.5\n`)).to.deep.equal([
      "/p/red.ini:10: [routes] namespace: the namespace's default route is [interface] gateway =: give a subnet here (e.g. 192.168.1.0/24 via 192.168.15.5)",
    ]);
    expect(problems(NIC + `[routes]\nhost = 10.99.0.0/16 via 10.20.30.1\n`)).to.deep.equal([
      '/p/red.ini:5: [routes] host: 10.99.0.0/16 via 10.20.30.1: a host route needs a [veth] section to go through',
    ]);
  });

  it('an unknown key in [veth] is named with a hint', () => {
    expect(problems(NIC + `[veth]\nname = a\nhost-name = b\nadress = 192.168.15.1/24\n`)).to.deep.equal([
      '/p/red.ini:7: [veth] adress: unknown key: did you mean "address"?',
    ]);
  });
});
