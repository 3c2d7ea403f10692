import { expect } from 'chai';
import { parseProfile, ProfileProblems } from '../../../src/profile/parse.js';
import type { Profile } from '../../../src/profile/types.js';

const BASE =
  `[interface]\nnic = ens19\naddress = 10.20.30.1/24\n` +
  `[veth]\nname = veth-b\nhost-name = veth-bh\naddress = 192.168.15.2/24\nhost-address = 192.168.15.5/24\n`;
const parse = (text: string) => {
  const p = parseProfile('blue', '/p/blue.ini', text);
  if (p instanceof ProfileProblems) throw new Error(p.lines().join('\n'));
  return p as Profile;
};
const problems = (text: string) => {
  const p = parseProfile('blue', '/p/blue.ini', text);
  expect(p).to.be.instanceOf(ProfileProblems);
  return (p as ProfileProblems).lines();
};

describe('profile/nat: [nat] and [forward]', () => {
  it('reads masquerades and forwards on both sides, IPv6 in brackets', () => {
    const p = parse(
      BASE.replace('address = 192.168.15.2/24', 'address = 192.168.15.2/24, 2001:db8:15::2/64').replace(
        'host-address = 192.168.15.5/24',
        'host-address = 192.168.15.5/24, 2001:db8:15::5/64',
      ) +
        `[nat]\nhost = 192.168.15.0/24 out eth0\nnamespace = 192.168.15.0/24 out ens19, 2001:db8:15::/64 out ens19\n` +
        `[forward]\nhost = tcp 192.168.1.2:80 to 192.168.15.2:80, udp 514 to 192.168.15.2:514\n` +
        `namespace = tcp 9100 to 192.168.15.5:9100, tcp 10.20.30.1:9101 to 192.168.15.5:9101, tcp [2001:db8:15::2]:8080 to [2001:db8:15::5]:80\n`,
    );
    expect(p.nat?.masquerade).to.deep.equal([
      { side: 'host', subnet: { family: 4, address: '192.168.15.0', prefixlen: 24 }, out: 'eth0' },
      { side: 'namespace', subnet: { family: 4, address: '192.168.15.0', prefixlen: 24 }, out: 'ens19' },
      { side: 'namespace', subnet: { family: 6, address: '2001:db8:15::', prefixlen: 64 }, out: 'ens19' },
    ]);
    expect(p.nat?.forwards).to.deep.equal([
      { side: 'host', proto: 'tcp', listen: '192.168.1.2', port: 80, to: '192.168.15.2', toPort: 80, family: 4 },
      { side: 'host', proto: 'udp', port: 514, to: '192.168.15.2', toPort: 514, family: 4 },
      { side: 'namespace', proto: 'tcp', port: 9100, to: '192.168.15.5', toPort: 9100, family: 4 },
      {
        side: 'namespace',
        proto: 'tcp',
        listen: '10.20.30.1',
        port: 9101,
        to: '192.168.15.5',
        toPort: 9101,
        family: 4,
      },
      {
        side: 'namespace',
        proto: 'tcp',
        listen: '2001:db8:15::2',
        port: 8080,
        to: '2001:db8:15::5',
        toPort: 80,
        family: 6,
      },
    ]);
  });

  it('a profile without the sections has no nat', () => {
    expect(parse(BASE).nat).to.equal(undefined);
  });

  it('garbage: one line each, with file, line, section and key', () => {
    expect(
      problems(
        BASE +
          `[nat]\nhost = 192.168.15.0/24 via eth0, 192.168.15.1/24 out eth0, 10.0.0.0/8 out a"b, 300.1.1.0/24 out x\n` +
          `[forward]\nhost = sctp 80 to 192.168.15.2:80, tcp 0 to 192.168.15.2:80, tcp 80 to 192.168.15.2, tcp 81 to nothere:80, tcp 1.2.3.4:82 to [2001:db8::1]:80\n`,
      ),
    ).to.deep.equal([
      '/p/blue.ini:10: [nat] host: "192.168.15.0/24 via eth0" is not SUBNET out LINK, like 192.168.15.0/24 out eth0 (several: separate with commas)',
      '/p/blue.ini:10: [nat] host: 192.168.15.1/24 has host bits set: the subnet is 192.168.15.0/24',
      '/p/blue.ini:10: [nat] host: "a"b" is not a valid interface name (no quotes or backslashes)',
      '/p/blue.ini:10: [nat] host: "300.1.1.0" is not an IPv4 or IPv6 address',
      '/p/blue.ini:12: [forward] host: "sctp" in "sctp 80 to 192.168.15.2:80" is not tcp or udp',
      '/p/blue.ini:12: [forward] host: "0" in "0" is not a port between 1 and 65535',
      '/p/blue.ini:12: [forward] host: "192.168.15.2" is not ADDRESS:PORT (an IPv6 address in brackets: [2001:db8::2]:80)',
      '/p/blue.ini:12: [forward] host: "nothere" in "nothere:80" is not an IPv4 or IPv6 address',
      '/p/blue.ini:12: [forward] host: 1.2.3.4 and 2001:db8::1 in "tcp 1.2.3.4:82 to [2001:db8::1]:80" are not of the same IP family',
    ]);
  });

  it('refuses overlapping masquerade subnets on one side, and two forwards taking the same connections', () => {
    expect(
      problems(
        BASE +
          `[nat]\nhost = 192.168.15.0/24 out eth0, 192.168.0.0/16 out eth1\nnamespace = 192.168.0.0/16 out ens19\n` +
          `[forward]\nhost = tcp 80 to 192.168.15.2:80, tcp 192.168.1.2:80 to 192.168.15.2:81, udp 80 to 192.168.15.2:80\n`,
      ),
    ).to.deep.equal([
      '/p/blue.ini:10: [nat] host: 192.168.0.0/16 overlaps 192.168.15.0/24 out eth0: give each subnet once, with the link it leaves through',
      '/p/blue.ini:13: [forward] host: "tcp 192.168.1.2:80 to 192.168.15.2:81" takes the same connections as "tcp 80 to 192.168.15.2:80"',
    ]);
  });

  it('a forward goes to an address of the other side, through a veth; the namespace masquerades out of its own links; the host is IPv4 only', () => {
    expect(
      problems(`[interface]\nnic = ens19\naddress = 10.20.30.1/24\n[forward]\nhost = tcp 80 to 10.20.30.1:80\n`),
    ).to.deep.equal([
      '/p/blue.ini:5: [forward] host: "tcp 80 to 10.20.30.1:80": a forward goes through the veth: add a [veth] section',
    ]);
    expect(
      problems(
        BASE +
          `[nat]\nnamespace = 10.99.0.0/16 out eth0\nhost = 2001:db8::/64 out eth0\n` +
          `[forward]\nhost = tcp 80 to 192.168.15.5:80\nnamespace = tcp 9100 to 192.168.15.2:9100, tcp 192.168.15.5:9101 to 192.168.15.5:9101\n`,
      ),
    ).to.deep.equal([
      '/p/blue.ini:10: [nat] namespace: 10.99.0.0/16 out eth0: eth0 is not a link of the namespace (veth-b, ens19): name its NIC (nic = NAME) or its veth end',
      '/p/blue.ini:11: [nat] host: 2001:db8::/64 out eth0: oob does not forward IPv6 in the host (the host would ignore router advertisements, and with them maybe its default route): use IPv4 here, or NAT inside the namespace',
      '/p/blue.ini:13: [forward] host: "tcp 80 to 192.168.15.5:80": 192.168.15.5 is no address of the namespace\'s links (192.168.15.2, 10.20.30.1): forward to one of them',
      '/p/blue.ini:14: [forward] namespace: "tcp 9100 to 192.168.15.2:9100": 192.168.15.2 is no address of the host\'s end of the veth (192.168.15.5): forward to one of them',
      '/p/blue.ini:14: [forward] namespace: "tcp 192.168.15.5:9101 to 192.168.15.5:9101": 192.168.15.5 is no address of the namespace (192.168.15.2, 10.20.30.1)',
    ]);
  });

  it('unknown keys and sections get a hint', () => {
    expect(problems(BASE + `[forwards]\nhost = tcp 80 to 192.168.15.2:80\n`)[0]).to.equal(
      '/p/blue.ini:9: [forwards]: unknown section: did you mean [forward]?',
    );
    expect(problems(BASE + `[nat]\nhosts = 192.168.15.0/24 out eth0\n`)[0]).to.equal(
      '/p/blue.ini:10: [nat] hosts: unknown key: did you mean "host"?',
    );
  });
});
