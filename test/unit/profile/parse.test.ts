// Validation gaps of issue 8 (item 13): each bad input gives one line naming file, line, section, key.
import { expect } from 'chai';
import { MAX_PROBLEM_LINES, parseProfile, ProfileProblems } from '../../../src/profile/parse.js';

const problems = (text: string): string[] => {
  const p = parseProfile('mgmt', '/p/mgmt.ini', text);
  return p instanceof ProfileProblems ? p.lines() : [];
};
const ok = (text: string) => {
  const p = parseProfile('mgmt', '/p/mgmt.ini', text);
  if (p instanceof ProfileProblems) throw new Error(p.lines().join('\n'));
  return p;
};
const iface = (extra: string) => `[interface]\nnic = ens19\n${extra}`;

describe('profile/parse: the gaps that let a bad profile through', () => {
  it('a gateway that is the network or the broadcast address of the subnet', () => {
    expect(problems(iface('address = 10.20.30.1/24\ngateway = 10.20.30.0\n'))).to.deep.equal([
      "/p/mgmt.ini:4: [interface] gateway: 10.20.30.0 is the network address of 10.20.30.0/24, not a router's: give the router's own address",
    ]);
    expect(problems(iface('address = 10.20.30.1/24\ngateway = 10.20.30.255\n'))).to.deep.equal([
      "/p/mgmt.ini:4: [interface] gateway: 10.20.30.255 is the broadcast address of 10.20.30.0/24, not a router's: give the router's own address",
    ]);
    // a /31 has no network or broadcast address: both ends are hosts
    expect(ok(iface('address = 10.0.0.0/31\ngateway = 10.0.0.1\n')).iface!.gateways).to.deep.equal(['10.0.0.1']);
  });

  it('a /0 prefix, IPv4 and IPv6', () => {
    expect(problems(iface('address = 10.20.30.1/0, 2001:db8::1/0\n'))).to.deep.equal([
      "/p/mgmt.ini:3: [interface] address: 10.20.30.1/0: a /0 prefix makes every address on-link: give the subnet's real prefix, e.g. 10.20.30.1/24",
      "/p/mgmt.ini:3: [interface] address: 2001:db8::1/0: a /0 prefix makes every address on-link: give the subnet's real prefix, e.g. 2001:db8::1/64",
    ]);
  });

  const svc = (line: string) => `${iface('address = 10.20.30.1/24\n')}[service.x]\n${line}\n`;
  it('a ";" or "#" inside an exec word or inside its quotes: one line saying how to write it', () => {
    expect(problems(svc("exec = /bin/sh -c 'echo a; echo b'"))).to.deep.equal([
      '/p/mgmt.ini:5: [service.x] exec: the ";" at column 26 starts an INI comment, which cuts the value to "/bin/sh -c \'echo a": write each ";" and "#" that belongs to the value as \\; and \\#',
    ]);
    expect(problems(svc('exec = /usr/bin/prog --color=#fff'))).to.have.length(1);
    expect(problems(svc('exec = /usr/bin/prog "a # b"'))[0]).to.match(
      /^\/p\/mgmt\.ini:5: \[service\.x\] exec: the "#" at column 25 starts an INI comment/,
    );
    expect(problems(svc('exec = /bin/true\nenv = A=1;B=2'))).to.deep.equal([
      '/p/mgmt.ini:6: [service.x] env: the ";" at column 10 starts an INI comment, which cuts the value to "A=1": write each ";" and "#" that belongs to the value as \\; and \\#',
    ]);
  });

  it('an escaped ";" reaches the command, and a comment after white space stays a comment', () => {
    expect(ok(svc("exec = /bin/sh -c 'echo a\\; echo b'")).services[0]!.exec).to.deep.equal([
      '/bin/sh',
      '-c',
      'echo a; echo b',
    ]);
    expect(ok(svc('exec = /usr/sbin/sshd -D   # the daemon')).services[0]!.exec).to.deep.equal([
      '/usr/sbin/sshd',
      '-D',
    ]);
    expect(ok(svc('exec = "/bin/sh -c \'a; b\'"')).services[0]!.exec).to.deep.equal(['/bin/sh', '-c', 'a; b']);
    expect(ok(iface('address = 10.20.30.1/24 ; the old one was .2\n')).iface!.addresses).to.have.length(1);
  });

  it('a ";" inside a word of any other key is refused too, not silently cut', () => {
    expect(problems('[interface]\nnic = ens19;ens20\n')).to.deep.equal([
      '/p/mgmt.ini:2: [interface] nic: the ";" at column 12 starts an INI comment, which cuts the value to "ens19": write each ";" and "#" that belongs to the value as \\; and \\#',
    ]);
  });

  it('control characters of the file never reach the terminal raw, and a file of garbage gives a few lines', () => {
    const lines = problems(`[interface]\nnic = ens19\n\u001b]0;owned\u0007\u001b[2J\n${'garbage\u009b\n'.repeat(500)}`);
    expect(lines).to.have.length(MAX_PROBLEM_LINES + 1);
    expect(lines[0]).to.equal('/p/mgmt.ini:3: [interface]: "\\x1b]0;owned\\x07\\x1b[2J" is not "key = value"');
    expect(lines[1]).to.equal('/p/mgmt.ini:4: [interface]: "garbage\\x9b" is not "key = value"');
    expect(lines[MAX_PROBLEM_LINES]).to.equal(
      '/p/mgmt.ini: 491 more problems: is this a profile at all? (see profiles/mgmt.ini)',
    );
    for (const l of lines) expect(l).not.to.match(/[\u0000-\u001f\u007f-\u009f]/);
  });

  it('a very long bad line is shortened, keeping its start and its end', () => {
    const [line] = problems(`[interface]\nnic = ens19\n${'x'.repeat(100_000)}\n`);
    expect(line!.length).to.be.below(300);
    expect(line).to.match(/^\/p\/mgmt\.ini:3: \[interface\]: "xxx.* … x+" is not "key = value"$/);
  });
});
