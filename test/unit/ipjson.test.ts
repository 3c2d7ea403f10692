import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseLinks, parseRoutes, restorableRoutes, splitBatchJson } from '../../src/net/ipjson.js';
import { parseSshConnection } from '../../src/net/observe.js';

// Saved from: printf 'addr show\nroute show table all\n' | ip -n fx -j -d -batch -   (iproute2 6.1)
const fixture = readFileSync(new URL('../../../test/fixtures/host-batch.json', import.meta.url), 'utf8');

describe('net/ipjson (real ip -j output)', () => {
  const [l, r] = splitBatchJson(fixture);
  const links = parseLinks(l!);
  const routes = parseRoutes(r!);
  it('reads links with flags, MTU, alias, kind and addresses', () => {
    const nic = links.find((x) => x.ifname === 'ens19')!;
    expect(nic).to.include({ mtu: 1400, alias: 'uplink to mgmt switch', kind: 'veth', up: true });
    expect(nic.addrs.map((a) => `${a.local}/${a.prefixlen}/${a.scope}`)).to.include.members(['10.20.30.1/24/global', '2001:db8:30::1/64/global']);
    expect(links.find((x) => x.ifname === 'lo')!.up).to.equal(true);
  });
  it('reads routes of both families from all tables, and keeps the ones worth restoring', () => {
    expect(routes.some((x) => x.table === 'local')).to.equal(true);
    const keep = restorableRoutes(routes, 'ens19').map((x) => `${x.dst} via ${x.gateway} ${x.family}`);
    expect(keep).to.have.members(['default via 10.20.30.20 4', '172.16.99.0/24 via 10.20.30.30 4', 'default via 2001:db8:30::20 6']);
  });
  it('reads SSH_CONNECTION', () => {
    expect(parseSshConnection('203.0.113.7 51515 192.0.2.2 22')).to.deep.equal({ client: '203.0.113.7', local: '192.0.2.2' });
    expect(parseSshConnection('garbage')).to.equal(undefined);
  });
});
