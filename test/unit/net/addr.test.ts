import { expect } from 'chai';
import { isIPv6 as nodeIsIPv6 } from 'node:net';
import {
  canonicalIp,
  contains,
  isIPv6,
  isNetworkOrBroadcast,
  overlaps,
  parseCidr,
  type Cidr,
} from '../../../src/net/addr.js';

const c = (t: string) => parseCidr(t) as Cidr;

describe('net/addr', () => {
  it('parses IPv4 and IPv6 prefixes and canonicalises IPv6', () => {
    expect(parseCidr('10.20.30.1/24')).to.deep.equal({ family: 4, address: '10.20.30.1', prefixlen: 24 });
    expect(parseCidr('2001:DB8:0:0::1/64')).to.deep.equal({ family: 6, address: '2001:db8::1', prefixlen: 64 });
    expect(canonicalIp('2001:0db8:0000:0000:0001:0000:0000:0001')).to.equal('2001:db8::1:0:0:1');
    expect(canonicalIp('::ffff:10.0.0.1')).to.equal('::ffff:a00:1');
  });
  it('rejects what is not a prefix, with a reason', () => {
    expect(parseCidr('10.20.30.1'))
      .to.be.a('string')
      .and.match(/prefix length/);
    expect(parseCidr('10.20.300.1/24'))
      .to.be.a('string')
      .and.match(/not an IPv4 or IPv6/);
    expect(parseCidr('10.0.0.1/33'))
      .to.be.a('string')
      .and.match(/larger than 32/);
    expect(parseCidr('2001:db8::1/129'))
      .to.be.a('string')
      .and.match(/larger than 128/);
  });
  it('knows what lies inside a subnet', () => {
    expect(contains(c('10.20.30.1/24'), '10.20.30.20')).to.equal(true);
    expect(contains(c('10.20.30.1/24'), '10.20.31.20')).to.equal(false);
    expect(contains(c('10.20.30.1/24'), '2001:db8::1')).to.equal(false);
    expect(contains(c('2001:db8:30::1/64'), '2001:db8:30::20')).to.equal(true);
    expect(contains(c('2001:db8:30::1/64'), '2001:db8:31::20')).to.equal(false);
  });
  it('finds overlaps and unusable host addresses', () => {
    expect(overlaps(c('10.0.0.0/8'), c('10.20.30.0/24'))).to.equal(true);
    expect(overlaps(c('10.20.31.0/24'), c('10.20.30.0/24'))).to.equal(false);
    expect(isNetworkOrBroadcast(c('10.20.30.0/24'))).to.equal(true);
    expect(isNetworkOrBroadcast(c('10.20.30.255/24'))).to.equal(true);
    expect(isNetworkOrBroadcast(c('10.20.30.1/24'))).to.equal(false);
    expect(isNetworkOrBroadcast(c('10.20.30.0/31'))).to.equal(false);
  });

  it("tells IPv6 addresses as node:net's isIPv6 does, valid and invalid alike", () => {
    const cases = [
      '::',
      '::1',
      '1::',
      'fe80::1%eth0',
      'fe80::1%',
      '::ffff:1.2.3.4',
      '::1.2.3.4',
      '1:2:3:4:5:6:1.2.3.4',
      '1:2:3:4:5:6::1.2.3.4',
      '1:2:3:4:5:6:7::',
      '1:2:3:4:5:6:7:8::',
      '::1:2:3:4:5:6:7',
      '::1:2:3:4:5:6:7:8',
      '1:2:3:4:5:6:7:8',
      ':1',
      '1:',
      '1::2::3',
      '12345::',
      '::256.1.1.1',
      '::01.1.1.1',
      '1:2:3:4:5::1.2.3.4',
      'a:b:c:d:e:f:1.2.3.4',
      '::ffff:1.2.3',
      '%x',
      '::%a:b.c-d',
      '2001:DB8::',
      '10.0.0.1',
      'g::1',
      '',
    ];
    const valid = cases.filter((t) => nodeIsIPv6(t));
    expect(valid.length).to.be.greaterThan(5);
    expect(valid.length).to.be.lessThan(cases.length - 5);
    for (const t of cases) expect(isIPv6(t), t).to.equal(nodeIsIPv6(t));
  });
});
