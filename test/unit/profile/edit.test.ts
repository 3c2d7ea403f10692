import { expect } from 'chai';
import { OobError } from '../../../src/errors.js';
import { newProfileText, setKeys } from '../../../src/profile/edit.js';
import { parseProfile, ProfileProblems } from '../../../src/profile/parse.js';

describe('profile/edit: values written into a profile stay values', () => {
  const base = setKeys(newProfileText('mgmt'), 'interface', { nic: 'ens19', address: '10.20.30.1/24' });
  const hostile: Array<[string, string]> = [
    ['nic', 'ens19\n[service.evil]\nexec = /usr/bin/touch /tmp/pwned'],
    ['nic', 'ens19\r\nmtu = 68'],
    ['address', '10.20.30.1/24 ; 10.9.9.9/8'],
    ['gateway', '10.20.30.20 # hidden'],
    ['gateway', '10.20.30.20=1'],
    ['nic', '[service.x]'],
    ['nic', 'ens19]'],
    ['nic', '"ens19"'],
    ['nic', 'ens\\19'],
    ['nic', 'ens19\u0000'],
    ['nic', 'ens19\u001b[2J'],
    ['nic', ' ens19'],
    ['nic', ''],
  ];
  for (const [key, value] of hostile) {
    it(`refuses ${key} = ${JSON.stringify(value)} with one line, exit 2, leaving the text alone`, () => {
      let err: unknown;
      try {
        setKeys(base, 'interface', { [key]: value });
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(OobError);
      expect((err as OobError).exitCode).to.equal(2);
      expect((err as OobError).message).to.match(
        new RegExp(`^${key} ".*: give a plain value \\(an address, a NIC name, a MAC\\); nothing was written$`),
      );
      expect((err as OobError).message).not.to.match(/[\u0000-\u001f]/);
    });
  }
  it('a refused key name is refused too', () => {
    expect(() => setKeys(base, 'interface', { 'nic\n[x]': 'ens19' })).to.throw(OobError, /is not a profile key/);
  });
  it('plain values still go in and read back as written', () => {
    const text = setKeys(base, 'interface', {
      nic: 'mac:52:54:00:12:34:56',
      address: '10.20.30.1/24, 2001:db8:30::1/64',
      gateway: '10.20.30.20',
    });
    const p = parseProfile('mgmt', '/p/mgmt.ini', text);
    expect(p).not.to.be.instanceOf(ProfileProblems);
    const prof = p as Exclude<typeof p, ProfileProblems>;
    expect(prof.iface!.nic).to.deep.equal({ kind: 'mac', mac: '52:54:00:12:34:56' });
    expect(prof.iface!.addresses.map((a) => `${a.address}/${a.prefixlen}`)).to.deep.equal([
      '10.20.30.1/24',
      '2001:db8:30::1/64',
    ]);
    expect(prof.iface!.gateways).to.deep.equal(['10.20.30.20']);
    expect(prof.services).to.deep.equal([]);
  });
});
