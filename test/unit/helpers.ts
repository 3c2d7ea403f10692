import type { AddrInfo, Link, Route } from '../../src/net/ipjson.js';
import type { Observation } from '../../src/observe/types.js';
import type { RuntimePaths } from '../../src/state/layout.js';
import { parseProfile } from '../../src/profile/parse.js';
import type { NicProfile, Profile } from '../../src/profile/types.js';

export const paths: Pick<RuntimePaths, 'recordFile' | 'nsRecordFile' | 'dnsFile' | 'dnsDir'> = {
  recordFile: '/run/oob/mgmt/nic.json',
  nsRecordFile: '/run/oob/mgmt/netns.json',
  dnsFile: '/etc/netns/mgmt/resolv.conf',
  dnsDir: '/etc/netns/mgmt',
};

export function profile(text: string, name = 'mgmt'): Profile {
  const p = parseProfile(name, `/p/${name}.ini`, text);
  if ('problems' in p) throw new Error(p.lines().join('\n'));
  return p;
}

/** A profile with a NIC ([interface] nic =). */
export function nicProfile(text: string, name = 'mgmt'): NicProfile {
  const p = profile(text, name);
  if (!p.iface) throw new Error(`${name}: no [interface]`);
  return p as NicProfile;
}

export const v4 = (local: string, prefixlen = 24): AddrInfo => ({
  family: 'inet',
  local,
  prefixlen,
  scope: 'global',
  dynamic: false,
});

export function link(ifname: string, o: Partial<Link> = {}): Link {
  return {
    ifindex: 2,
    ifname,
    mac: '52:54:00:00:00:19',
    flags: ['UP'],
    up: true,
    carrier: true,
    operstate: 'UP',
    mtu: 1500,
    addrs: [],
    ...o,
  };
}

export const route = (dst: string, dev: string, o: Partial<Route> = {}): Route => ({
  type: 'unicast',
  dst,
  dev,
  table: 'main',
  protocol: 'boot',
  scope: 'global',
  family: dst.includes(':') ? 6 : 4,
  ...o,
});

export function host(o: Partial<Observation> = {}): Observation {
  return {
    host: {
      links: [
        link('lo', { ifindex: 1, mac: '00:00:00:00:00:00' }),
        link('eth0', { ifindex: 2, mac: '52:54:00:00:00:01', addrs: [v4('192.0.2.2')] }),
        link('ens19', { ifindex: 3, up: false, addrs: [] }),
      ],
      routes: [
        route('default', 'eth0', { gateway: '192.0.2.1' }),
        route('192.0.2.0/24', 'eth0', { protocol: 'kernel', scope: 'link' }),
      ],
    },
    hostNetns: 'net:[4026531840]',
    namespaces: [],
    ...o,
  };
}
