// The DHCP lease as oob's udhcpc hook writes it (RUNTIME/NAME/dhcp4.lease, key=value lines),
// read by the supervisor (readiness) and by status/doctor.
import { promises as fsp } from 'node:fs';
import { dhcpFiles } from './layout.js';

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
  if (!/^[\d.]+\/\d+$/.test(address) || !Number.isFinite(obtained) || !Number.isFinite(leaseSec)) return undefined;
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

export async function readLease(runtimeDir: string, profile: string): Promise<Lease | undefined> {
  const text = await fsp.readFile(dhcpFiles(runtimeDir, profile).leaseFile, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseLease(text);
}

export const leaseValid = (l: Lease | undefined, now: number): l is Lease => !!l && Date.parse(l.expires) > now;

/** The client's files go with the supervisor that ran it. */
export async function removeDhcpFiles(runtimeDir: string, profile: string): Promise<void> {
  const f = dhcpFiles(runtimeDir, profile);
  await Promise.all(
    [f.script, f.pidFile, f.leaseFile, `${f.script}.new`, `${f.leaseFile}.new`].map((p) => fsp.rm(p, { force: true })),
  );
}
