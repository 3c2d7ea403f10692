import { expect } from 'chai';
import { canonicalIp, contains, isNetworkOrBroadcast, overlaps, parseCidr, type Cidr } from '../../../src/net/addr.js';

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
});
