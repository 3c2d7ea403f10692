import { expect } from 'chai';
import { leaseValid, parseLease } from '../../../src/state/lease.js';

describe('state/lease: the lease file of the udhcpc hook', () => {
  const text =
    'address=10.20.30.100/24\nserver=10.20.30.20\nrouter=10.20.30.20\ndns=10.20.30.53 10.20.30.54\nobtained=1700000000\nlease=120\n';
  it('reads address, server, router, DNS, obtained and expiry', () => {
    expect(parseLease(text)).to.deep.equal({
      address: '10.20.30.100/24',
      server: '10.20.30.20',
      router: ['10.20.30.20'],
      dns: ['10.20.30.53', '10.20.30.54'],
      obtained: '2023-11-14T22:13:20.000Z',
      expires: '2023-11-14T22:15:20.000Z',
      leaseSec: 120,
    });
  });
  it('a lease is valid until its expiry; a broken file is no lease', () => {
    const l = parseLease(text);
    expect(leaseValid(l, Date.parse('2023-11-14T22:15:19Z'))).to.equal(true);
    expect(leaseValid(l, Date.parse('2023-11-14T22:15:21Z'))).to.equal(false);
    expect(parseLease('address=\nobtained=x\n')).to.equal(undefined);
    expect(leaseValid(undefined, 0)).to.equal(false);
  });
  it('reads a DHCPv6 lease (dhcpcd hook: a /128, the server by DUID, no router)', () => {
    const l = parseLease(
      'address=2001:db8:30::191/128\nserver=0001000132a048e57617e3932ca3\nrouter=\ndns=2001:db8:30::53\nobtained=1700000000\nlease=120\n',
    );
    expect(l).to.deep.include({ address: '2001:db8:30::191/128', router: [], dns: ['2001:db8:30::53'], leaseSec: 120 });
  });
  it('garbage is no lease, never a NaN or an out-of-range date', () => {
    const base = 'address=10.0.0.5/24\nobtained=1700000000\nlease=120\n';
    expect(parseLease(base)).not.to.equal(undefined);
    for (const bad of [
      base.replace('1700000000', '-5'),
      base.replace('lease=120', 'lease=12O'),
      base.replace('lease=120', 'lease='),
      base.replace('1700000000', '99999999999999999999'),
      base.replace('10.0.0.5/24', '10.0.0.5'),
      base.replace('10.0.0.5/24', 'rm -rf /'),
      base.replace('10.0.0.5/24', '::/x'),
      '\0\0\0',
      '',
    ])
      expect(parseLease(bad), JSON.stringify(bad)).to.equal(undefined);
  });
});
