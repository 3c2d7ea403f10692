import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { plainIp } from '../../../src/net/addr.js';
import { parseLinks, parseRules, splitBatchJson } from '../../../src/net/ipjson.js';

// Saved from: printf 'addr show\nroute show table all\nrule show\n' | ip -n X -j -d -batch -  (iproute2 6.1)
// X: nic0 a port of bridge br0, macvlan mv0 on nic1, a rule of each kind.
const [l, , ru] = splitBatchJson(
  readFileSync(new URL('../../../../test/fixtures/host-rules-bridge-batch.json', import.meta.url), 'utf8'),
);

describe('net/ipjson: rules, and what links are stacked on', () => {
  it('reads master and parent (ip\'s "link") of links', () => {
    const links = parseLinks(l!);
    const at = (n: string) => links.find((x) => x.ifname === n)!;
    expect(at('nic0')).to.include({ master: 'br0', parent: 'nic0p', kind: 'veth' });
    expect(at('mv0')).to.include({ parent: 'nic1', kind: 'macvlan' });
    expect(at('br0')).to.include({ kind: 'bridge' });
    expect(at('br0').master).to.equal(undefined);
  });
  it('reads every kind of rule: selectors, actions, suppress', () => {
    const rules = parseRules(ru!, 4);
    const at = (p: number) => rules.find((r) => r.priority === p)!;
    expect(rules.map((r) => r.priority)).to.deep.equal([
      0, 100, 200, 300, 400, 500, 600, 601, 602, 603, 604, 605, 32766, 32767,
    ]);
    expect(at(0)).to.deep.equal({
      priority: 0,
      family: 4,
      not: false,
      l3mdev: false,
      action: 'lookup',
      table: 'local',
    });
    expect(at(100)).to.include({ src: '10.1.0.5/32', table: '100' });
    expect(at(200)).to.include({ dst: '10.9.0.0/16', table: 'main', suppressPrefixlen: 0 });
    expect(at(300)).to.deep.include({
      fwmark: 16,
      fwmask: 255,
      iif: 'lo',
      oif: 'nic1',
      uid: [0, 0],
      ipproto: 'tcp',
      sport: [22, 22],
      dport: [1000, 2000],
      table: '100',
    });
    expect(at(400)).to.include({ not: true, table: '100' });
    expect(at(500)).to.include({ action: 'goto', goto: 32766 });
    expect(at(500).table).to.equal(undefined);
    expect([600, 601, 602].map((p) => at(p).action)).to.deep.equal(['blackhole', 'nop', 'unreachable']);
    expect(at(603)).to.include({ tos: 16 });
    expect(at(604)).to.include({ src: '10.1.0.0/16' });
    expect(at(605)).to.include({ l3mdev: true });
    expect(at(605).table).to.equal(undefined);
    expect(parseRules('[{"priority":100,"src":"2001:db8::","srclen":64,"table":"100"}]', 6)[0]).to.include({
      family: 6,
      src: '2001:db8::/64',
    });
  });
  it('takes IPv4-mapped IPv6 addresses for the IPv4 address they stand for', () => {
    expect(plainIp('::ffff:10.0.0.1')).to.equal('10.0.0.1');
    expect(plainIp('::FFFF:a00:1')).to.equal('10.0.0.1');
    expect(plainIp('2001:DB8::1')).to.equal('2001:db8::1');
    expect(plainIp('::1')).to.equal('::1');
    expect(plainIp('10.0.0.1')).to.equal('10.0.0.1');
  });
});
