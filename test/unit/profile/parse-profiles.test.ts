import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { checkOwnership } from '../../../src/profile/load.js';
import { parseDuration, parseProfile, ProfileProblems } from '../../../src/profile/parse.js';
import { shellWords } from '../../../src/profile/lines.js';
import type { Profile } from '../../../src/profile/types.js';
import { OobError } from '../../../src/errors.js';

const F = '/etc/oob/profiles/mgmt.ini';
const parse = (text: string, name = 'mgmt') => parseProfile(name, F, text);
const problems = (text: string, name = 'mgmt') => {
  const r = parse(text, name);
  expect(r, 'expected the profile to be refused').to.be.instanceOf(ProfileProblems);
  return (r as ProfileProblems).lines();
};
const ok = (text: string) => {
  const r = parse(text);
  if (r instanceof ProfileProblems) expect.fail(r.lines().join('\n'));
  return r as Profile;
};

describe('profile/parse', () => {
  it('reads the shipped example profile (the seed: ens19, 10.20.30.1/24 via 10.20.30.20, an sshd copy)', () => {
    const text = readFileSync(new URL('../../../../profiles/mgmt.ini', import.meta.url), 'utf8');
    const p = ok(text);
    expect(p.iface!.nic).to.deep.equal({ kind: 'name', name: 'ens19' });
    expect(p.iface!.addresses.map((a) => `${a.address}/${a.prefixlen}`)).to.deep.equal(['10.20.30.1/24']);
    expect(p.iface!.gateways).to.deep.equal(['10.20.30.20']);
    const sshd = p.services.find((s) => s.name === 'sshd')!;
    expect(sshd.exec[0]).to.equal('/usr/sbin/sshd');
    expect(sshd.exec).to.include('PidFile=/run/sshd-mgmt.pid');
    expect(sshd.pidfile).to.equal('/run/sshd-mgmt.pid');
  });

  it('takes several addresses, both families, a MAC selector, an MTU and DNS', () => {
    const p = ok(
      `[interface]\nnic = mac:52:54:00:AA:bb:01\naddress = 10.20.30.1/24, 2001:db8:30::1/64\ngateway = 10.20.30.20 2001:db8:30::20\nmtu = 9000\n[dns]\nnameserver = 10.20.30.53\nsearch = mgmt.example.net example.net\n`,
    );
    expect(p.iface!.nic).to.deep.equal({ kind: 'mac', mac: '52:54:00:aa:bb:01' });
    expect(p.iface!.addresses).to.have.length(2);
    expect(p.iface!.gateways).to.deep.equal(['10.20.30.20', '2001:db8:30::20']);
    expect(p.iface!.mtu).to.equal(9000);
    expect(p.dns).to.deep.equal({
      nameservers: ['10.20.30.53'],
      search: ['mgmt.example.net', 'example.net'],
      options: [],
    });
  });

  it("accepts a profile with no address (adopt the NIC's) and an IPv6 link-local gateway", () => {
    const p = ok(`[interface]\nnic = ens19\n`);
    expect(p.iface!.addresses).to.deep.equal([]);
    ok(`[interface]\nnic = ens19\naddress = 2001:db8::5/64\ngateway = fe80::1\n`);
  });

  it('names file, line, section and key for an unknown key, and suggests the nearest', () => {
    const l = problems(`[interface]\nnic = ens19\nadress = 10.20.30.1/24\n`);
    expect(l).to.deep.equal([`${F}:3: [interface] adress: unknown key: did you mean "address"?`]);
  });

  it('refuses a bad CIDR', () => {
    expect(problems(`[interface]\nnic = ens19\naddress = 10.20.30.1\n`)[0]).to.match(
      /^.*mgmt\.ini:3: \[interface\] address: "10\.20\.30\.1" is not an address with a prefix length/,
    );
    expect(problems(`[interface]\nnic = ens19\naddress = 10.20.30.0/24\n`)[0]).to.match(/network or broadcast address/);
  });

  it('refuses a gateway outside every configured subnet (the seed: it must be reachable from inside)', () => {
    const l = problems(`[interface]\nnic = ens19\naddress = 10.20.30.1/24\ngateway = 192.168.1.1\n`);
    expect(l).to.have.length(1);
    expect(l[0]).to.match(
      /:4: \[interface\] gateway: 192\.168\.1\.1 is outside every configured subnet \(10\.20\.30\.1\/24\)/,
    );
    expect(problems(`[interface]\nnic = ens19\naddress = 10.20.30.1/24\ngateway = 10.20.30.1\n`)[0]).to.match(
      /own address/,
    );
    expect(problems(`[interface]\nnic = ens19\naddress = 10.20.30.1/24\ngateway = 2001:db8::1\n`)[0]).to.match(
      /no IPv6 address/,
    );
  });

  it('refuses invalid interface and namespace names (15 bytes at most)', () => {
    expect(problems(`[interface]\nnic = averyveryverylongname\n`)[0]).to.match(
      /:2: \[interface\] nic: "averyveryverylongname" is 21 bytes long/,
    );
    expect(problems(`[interface]\nnic = eth/0\n`)[0]).to.match(/not a valid interface name/);
    expect(problems(`[interface]\nnic = ens19\n`, 'a-namespace-name-too-long')[0]).to.match(/at most 15 bytes/);
    expect(problems(`[interface]\nnic = ens19\n`, '../etc')[0]).to.match(/not a valid profile\/namespace name/);
    expect(problems(`[interface]\nnic = mac:52:54:00\n`)[0]).to.match(/not a MAC address/);
  });

  it('refuses duplicate keys and sections, pointing at both lines', () => {
    expect(problems(`[interface]\nnic = ens19\nnic = ens20\n`)).to.deep.equal([
      `${F}:3: [interface] nic: duplicate key (first on line 2): give it once; list several values on one line, separated by commas`,
    ]);
    expect(problems(`[interface]\nnic = ens19\n[interface]\nmtu = 1500\n`)[0]).to.match(
      /:3: \[interface\]: section \[interface\] appears again \(first on line 1\)/,
    );
  });

  it('refuses an empty file, a missing [interface], an unknown section', () => {
    expect(problems('')[0]).to.match(/:1: the profile is empty/);
    expect(problems('  \n# only a comment\n\n')[0]).to.match(/the profile is empty/);
    expect(problems('[dns]\nnameserver = 10.0.0.53\n')[0]).to.match(
      /no \[interface\] and no \[veth\]: the namespace would have no link at all/,
    );
    expect(problems('[interface]\nnic = ens19\n[interfaces]\n')[0]).to.match(
      /unknown section: did you mean \[interface\]\?/,
    );
    expect(problems('nic = ens19\n')[0]).to.match(/:1: nic: key outside any section/);
  });

  it('reports every problem, one line each, in file order', () => {
    const l = problems(
      `[interface]\nnic = ens19\naddress = 10.20.30.1/24, 10.9.9.9/99\nmtu = 12\n[service.sshd]\nexe = /usr/sbin/sshd\n`,
    );
    expect(l).to.have.length(4);
    expect(l.map((x) => x.split(':')[1])).to.deep.equal(['3', '4', '5', '6']);
  });

  it('validates [service.NAME] sections now, though running them comes later', () => {
    const p = ok(
      `[interface]\nnic = ens19\n[service.web]\nexec = /usr/bin/python3 -m http.server 8080 --bind "0.0.0.0"\nready = tcp:8080\nrestart = on-failure\nrestart-delay = 250ms\nstop-signal = INT\nstop-timeout = 3s\nenv = LANG=C.UTF-8 GREETING="hello world"\nuser = www-data\n`,
    );
    const s = p.services[0]!;
    expect(s.exec).to.deep.equal(['/usr/bin/python3', '-m', 'http.server', '8080', '--bind', '0.0.0.0']);
    expect(s).to.include({
      restart: 'on-failure',
      restartDelayMs: 250,
      stopSignal: 'SIGINT',
      stopTimeoutMs: 3000,
      user: 'www-data',
    });
    expect(s.ready).to.deep.equal({ kind: 'tcp', port: 8080 });
    expect(s.env).to.deep.equal({ LANG: 'C.UTF-8', GREETING: 'hello world' });
    expect(problems(`[interface]\nnic = ens19\n[service.x]\nexec = /bin/sh -c 'a | b\n`)[0]).to.match(
      /\[service\.x\] exec: unbalanced single quote/,
    );
    expect(problems(`[interface]\nnic = ens19\n[service.x]\nexec = /bin/cat a > b\n`)[0]).to.match(
      /would need a shell/,
    );
    expect(problems(`[interface]\nnic = ens19\n[service.x]\nexec = /bin/true\nready = http:80\n`)[0]).to.match(
      /ready: "http:80" is not tcp:PORT/,
    );
    expect(problems(`[interface]\nnic = ens19\n[service.x]\nexec = /bin/true\nready = pidfile\n`)[0]).to.match(
      /needs pidfile =/,
    );
    expect(problems(`[interface]\nnic = ens19\n[service.x]\nready = none\n`)[0]).to.match(
      /\[service\.x\] exec: missing/,
    );
  });

  it('splits words as a shell would, without a shell', () => {
    expect(shellWords(`a 'b c' "d \\"e\\"" f\\ g`)).to.deep.equal(['a', 'b c', 'd "e"', 'f g']);
    expect(shellWords('a "b')).to.equal('unbalanced double quote');
    expect(parseDuration('1.5')).to.equal(1500);
    expect(parseDuration('2min')).to.equal(120_000);
    expect(parseDuration('fast')).to.be.a('string');
  });
});

describe('profile/load: ownership', () => {
  it('refuses a profile not owned by root, or writable by group or others', () => {
    expect(() => checkOwnership(F, { uid: 0, mode: 0o100600 }, 0)).not.to.throw();
    expect(() => checkOwnership(F, { uid: 1000, mode: 0o100600 }, 0)).to.throw(
      OobError,
      /owned by uid 1000.*chown root:root/,
    );
    expect(() => checkOwnership(F, { uid: 0, mode: 0o100664 }, 0)).to.throw(
      OobError,
      /writable by its group.*chmod go-w/,
    );
    expect(() => checkOwnership(F, { uid: 0, mode: 0o100646 }, 0)).to.throw(OobError, /writable by everyone/);
  });
});
