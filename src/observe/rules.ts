// Policy routing rules of the host, for the lock-out guard. The IPv4 rules come with the host's
// one `ip -j -d -batch` (observe.ts); a batch reads one family of rules, so the IPv6 ones take a
// second `ip`, read only where IPv6 routes live in a table of their own (else the kernel's
// default rules decide, and the guard assumes them).
import { parseRules } from '../net/ipjson.js';
import type { Io } from '../sys/io.js';
import type { NsView } from './types.js';

export async function withIpv6Rules(io: Io, host: NsView): Promise<NsView> {
  if (!host.routes.some((r) => r.family === 6 && r.table !== 'main' && r.table !== 'local')) return host;
  const r = await io.run(['ip', '-6', '-j', 'rule', 'show'], { allowFail: true });
  if (r.code !== 0) return host;
  return { ...host, rules: [...(host.rules ?? []), ...parseRules(r.stdout, 6)] };
}
