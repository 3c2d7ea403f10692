// The DHCP leases as oob's hooks write them (RUNTIME/NAME/dhcp4.lease from udhcpc's,
// RUNTIME/NAME/dhcp6.lease from dhcpcd's; key=value lines), read by the supervisor (readiness) and
// by status/doctor.
import { promises as fsp } from 'node:fs';
import { dhcp4DnsPart, dhcp6Files, dhcpFiles } from './layout.js';

export interface Lease {
  /** CIDR, e.g. 10.0.0.5/24. */
  address: string;
  server: string;
  router: string[];
  dns: string[];
  /** ISO times. */
  obtained: string;
  expires: string;
  leaseSec: number;
}

export function parseLease(text: string): Lease | undefined {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) kv.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  const obtained = Number(kv.get('obtained'));
  const leaseSec = Number(kv.get('lease'));
  const address = kv.get('address') ?? '';
  const cidr = /^[\d.]+\/\d+$/.test(address) || /^[\da-f:.]*:[\da-f:.]*\/\d+$/i.test(address);
  // a garbled file (half written, hand-edited) is no lease: never a NaN date
  if (!cidr || !/^\d+$/.test(kv.get('obtained') ?? '') || !/^\d+$/.test(kv.get('lease') ?? '')) return undefined;
  // beyond what a Date holds (toISOString would throw)
  if (Number.isNaN(new Date((obtained + leaseSec) * 1000).getTime())) return undefined;
  const words = (k: string) => (kv.get(k) ?? '').split(/\s+/).filter(Boolean);
  return {
    address,
    server: kv.get('server') ?? '',
    router: words('router'),
    dns: words('dns'),
    obtained: new Date(obtained * 1000).toISOString(),
    expires: new Date((obtained + leaseSec) * 1000).toISOString(),
    leaseSec,
  };
}

export async function readLease(runtimeDir: string, profile: string, family: 4 | 6 = 4): Promise<Lease | undefined> {
  const file = family === 4 ? dhcpFiles(runtimeDir, profile).leaseFile : dhcp6Files(runtimeDir, profile).leaseFile;
  const text = await fsp.readFile(file, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseLease(text);
}

export const leaseValid = (l: Lease | undefined, now: number): l is Lease => !!l && Date.parse(l.expires) > now;

/** The client's files go with the supervisor that ran it. */
export async function removeDhcpFiles(runtimeDir: string, profile: string): Promise<void> {
  const f = dhcpFiles(runtimeDir, profile);
  const g = dhcp6Files(runtimeDir, profile);
  await Promise.all(
    [
      ...[f.script, f.pidFile, f.leaseFile, g.script, g.config, g.leaseFile, g.dnsPart]
        .concat(dhcp4DnsPart(runtimeDir, profile))
        .flatMap((p) => [p, `${p}.new`]),
      g.runDir,
      g.dbDir,
    ].map((p) => fsp.rm(p, { force: true, recursive: true })),
  );
}
