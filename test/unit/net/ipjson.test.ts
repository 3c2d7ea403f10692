import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseLinks, parseRoutes, restorableRoutes, splitBatchJson } from '../../../src/net/ipjson.js';
import { parseSshConnection } from '../../../src/observe/observe.js';

// Saved from: printf 'addr show\nroute show table all\n' | ip -n fx -j -d -batch -   (iproute2 6.1)
const fixture = readFileSync(new URL('../../../../test/fixtures/host-batch.json', import.meta.url), 'utf8');

describe('net/ipjson (real ip -j output)', () => {
  const [l, r] = splitBatchJson(fixture);
  const links = parseLinks(l!);
  const routes = parseRoutes(r!);
  it('reads links with flags, MTU, alias, kind and addresses', () => {
    const nic = links.find((x) => x.ifname === 'ens19')!;
    expect(nic).to.include({ mtu: 1400, alias: 'uplink to mgmt switch', kind: 'veth', up: true });
    expect(nic.addrs.map((a) => `${a.local}/${a.prefixlen}/${a.scope}`)).to.include.members([
      '10.20.30.1/24/global',
      '2001:db8:30::1/64/global',
    ]);
    expect(links.find((x) => x.ifname === 'lo')!.up).to.equal(true);
  });
  it('reads routes of both families from all tables, and keeps the ones worth restoring', () => {
    expect(routes.some((x) => x.table === 'local')).to.equal(true);
    const keep = restorableRoutes(routes, 'ens19').map((x) => `${x.dst} via ${x.gateway} ${x.family}`);
    expect(keep).to.have.members([
      'default via 10.20.30.20 4',
      '172.16.99.0/24 via 10.20.30.30 4',
      'default via 2001:db8:30::20 6',
    ]);
  });
  it('reads SSH_CONNECTION', () => {
    expect(parseSshConnection('203.0.113.7 51515 192.0.2.2 22')).to.deep.equal({
      client: '203.0.113.7',
      local: '192.0.2.2',
      clientPort: 51515,
      localPort: 22,
      found: { by: 'SSH_CONNECTION' },
    });
    expect(parseSshConnection('garbage')).to.equal(undefined);
  });
});

describe('net/ipjson: neighbours, and /proc socket tables', () => {
  it('reads ip -j neigh output', async () => {
    const { parseNeigh } = await import('../../../src/net/ipjson.js');
    expect(
      parseNeigh(
        '[{"dst":"10.20.30.20","dev":"ens19","lladdr":"52:54:00:00:00:20","state":["REACHABLE"]},{"dst":"10.20.30.99","dev":"ens19","state":["FAILED"]}]',
      ),
    ).to.deep.equal([
      { dst: '10.20.30.20', dev: 'ens19', lladdr: '52:54:00:00:00:20', state: 'REACHABLE' },
      { dst: '10.20.30.99', dev: 'ens19', state: 'FAILED' },
    ]);
  });
  it('reads /proc/net/tcp rows by state, with ports and inodes', async () => {
    const { listeningPorts, socketRows } = await import('../../../src/sys/proc.js');
    const table = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 011E140A:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0',
      '   1: 011E140A:0016 1E1E140A:C350 01 00000000:00000000 02:0000A2F8 00000000     0        0 4243 4 0000000000000000 20 4 30 10 -1',
      '   2: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000    33        0 4244 1 0000000000000000 100 0 0 10 0',
    ].join('\n');
    expect(socketRows(table, '0A')).to.deep.equal([
      { port: 22, inode: '4242' },
      { port: 8080, inode: '4244' },
    ]);
    expect(listeningPorts(table)).to.deep.equal([22, 8080]);
  });
});
