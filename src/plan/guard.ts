// The lock-out guard: would moving this NIC cut the host, or the caller, off? Pure.
import { contains, familyOf, parseCidr, type Cidr } from '../net/addr.js';
import type { Link, Route } from '../net/ipjson.js';

const usesDev = (r: Route, dev: string) => r.dev === dev || (r.nexthopDevs?.includes(dev) ?? false);
const metricOf = (r: Route) => r.metric ?? (r.family === 6 ? 1024 : 0);

/** The route the main table would pick for `ip` (longest prefix, then lowest metric). */
export function lookupRoute(routes: Route[], ip: string): Route | undefined {
  const fam = familyOf(ip);
  let best: { r: Route; len: number } | undefined;
  for (const r of routes) {
    if (r.table !== 'main' || r.type !== 'unicast' || r.family !== fam) continue;
    let c: Cidr | string;
    if (r.dst === 'default') c = { family: r.family, address: r.family === 4 ? '0.0.0.0' : '::', prefixlen: 0 };
    else c = parseCidr(r.dst.includes('/') ? r.dst : `${r.dst}/${r.family === 4 ? 32 : 128}`);
    if (typeof c === 'string' || !contains(c, ip)) continue;
    if (!best || c.prefixlen > best.len || (c.prefixlen === best.len && metricOf(r) < metricOf(best.r))) best = { r, len: c.prefixlen };
  }
  return best?.r;
}

export function lockoutReasons(nic: Link, routes: Route[], ssh?: { local: string; client: string }): string[] {
  const reasons: string[] = [];
  for (const fam of [4, 6] as const) {
    const defaults = routes.filter((r) => r.table === 'main' && r.type === 'unicast' && r.dst === 'default' && r.family === fam);
    if (!defaults.length) continue;
    const preferred = defaults.reduce((a, b) => (metricOf(b) < metricOf(a) ? b : a));
    if (usesDev(preferred, nic.ifname))
      reasons.push(`${nic.ifname} carries the host's IPv${fam} default route (default${preferred.gateway ? ` via ${preferred.gateway}` : ''} dev ${nic.ifname}): moving it would cut the host off`);
  }
  if (ssh) {
    if (nic.addrs.some((a) => a.local === ssh.local))
      reasons.push(`${nic.ifname} holds ${ssh.local}, the local address of your SSH session (SSH_CONNECTION): moving it would cut you off`);
    else {
      const r = lookupRoute(routes, ssh.client);
      if (r && usesDev(r, nic.ifname)) reasons.push(`your SSH session's replies to ${ssh.client} leave through ${nic.ifname}: moving it would cut you off`);
    }
  }
  return reasons;
}
