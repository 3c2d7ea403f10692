import { expect } from 'chai';
import type { AddrInfo } from '../../../src/net/ipjson.js';
import { slaacAddresses } from '../../../src/observe/slaac.js';

const a = (local: string, prefixlen: number, o: Partial<AddrInfo> = {}): AddrInfo => ({
  family: 'inet6',
  local,
  prefixlen,
  scope: 'global',
  dynamic: true,
  ...o,
});

describe('observe/slaac: the addresses the kernel made from RAs', () => {
  it('dynamic global /64s only: not static, link-local, temporary, a DHCPv6 /128 or IPv4', () => {
    expect(
      slaacAddresses([
        a('2001:db8:30::5054:ff:fe00:19', 64),
        a('2001:db8:30::2', 64, { dynamic: false }),
        a('fe80::1', 64, { scope: 'link' }),
        a('2001:db8:30::abcd:1234', 64, { temporary: true }),
        a('2001:db8:30::191', 128),
        { family: 'inet', local: '10.0.0.5', prefixlen: 24, scope: 'global', dynamic: true },
      ]),
    ).to.deep.equal(['2001:db8:30::5054:ff:fe00:19/64']);
  });
});
