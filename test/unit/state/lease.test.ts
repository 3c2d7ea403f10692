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
});
