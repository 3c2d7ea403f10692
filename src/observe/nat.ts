// What [nat]/[forward] need to know of the host and the namespace: oob's nftables table on each
// side (`nft -j list ruleset inet`), the forwarding sysctls, the NAT records of every profile (a
// host sysctl is shared by the profiles that need it), and the TCP ports the host's sshd listens
// on (the forward guard). One `sh` per side. Read only when the profile has [nat]/[forward] or a
// record says oob did something: a host without nft is fine until a profile asks for NAT.
import { promises as fsp } from 'node:fs';
import { OobError } from '../errors.js';
import { parseNftRuleset, type NftTable } from '../net/nft.js';
import { hasNat } from '../profile/nat.js';
import type { Profile } from '../profile/types.js';
import { natTable } from '../state/layout.js';
import { readAllNatRecords, type NatRecord } from '../state/nat.js';
import type { Io } from '../sys/io.js';
import { allPids, netnsOf, socketsOf } from '../sys/proc.js';
import { firstLine } from '../sys/run.js';
import type { SshSession } from './types.js';

export const FORWARD_SYSCTLS = { 4: 'net.ipv4.ip_forward', 6: 'net.ipv6.conf.all.forwarding' } as const;

export interface NatSideView {
  /** oob-NAME (family inet) there, if present (whose it is, the record says). */
  table?: NftTable;
  /** The forwarding sysctls as read ("0", "1"); a key that cannot be read (no IPv6) is absent. */
  sysctls: Record<string, string>;
  /** down only: nft could not be read here (missing, failing): what the record says is tried anyway. */
  unread?: true;
}

export interface NatObservation {
  host: NatSideView;
  /** The namespace's side, when the namespace exists. */
  ns?: NatSideView;
  record?: NatRecord;
  /** Every other profile's record. */
  others: NatRecord[];
  /** TCP ports sshd listens on in the host, and the caller's session's local port. */
  sshPorts: number[];
}

const SIDE_SCRIPT = `command -v nft >/dev/null 2>&1 || exit 127
for f in /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding; do cat "$f" 2>/dev/null || echo -; done
exec nft -j list ruleset inet`;

/** The output of SIDE_SCRIPT -> the side's view. Pure. */
export function parseSide(stdout: string, profile: string): NatSideView {
  const [v4, v6, ...rest] = stdout.split('\n');
  const sysctls: Record<string, string> = {};
  if (v4 && v4.trim() !== '-') sysctls[FORWARD_SYSCTLS[4]] = v4.trim();
  if (v6 && v6.trim() !== '-') sysctls[FORWARD_SYSCTLS[6]] = v6.trim();
  const json = rest.join('\n').trim();
  const table = json ? parseNftRuleset(json).get(`inet ${natTable(profile)}`) : undefined;
  return { sysctls, ...(table ? { table } : {}) };
}

export async function observeSide(io: Io, profile: string, ns: string | null): Promise<NatSideView> {
  const argv = [...(ns ? ['ip', 'netns', 'exec', ns] : []), 'sh', '-c', SIDE_SCRIPT];
  const r = await io.run(argv, { allowFail: true });
  if (r.code === 127)
    throw new OobError(
      'missingTool',
      `nft is not installed (or not on PATH), and ${profile} has [nat]/[forward] or oob's table: install it (Debian: apt-get install nftables)`,
    );
  if (r.code !== 0)
    throw new OobError(
      'precondition',
      `cannot read nftables in ${ns ? `namespace ${ns}` : 'the host'} (${firstLine(r.stderr) || `exit ${r.code}`})`,
    );
  try {
    return parseSide(r.stdout, profile);
  } catch (e) {
    throw new OobError('precondition', `cannot read nftables in ${ns ?? 'the host'}: ${(e as Error).message}`);
  }
}

/** The TCP ports sshd processes of this network namespace listen on. */
async function sshdPorts(): Promise<number[]> {
  const own = await netnsOf(process.pid);
  const ports = new Set<number>();
  for (const pid of await allPids()) {
    const comm = (await fsp.readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
    if (comm !== 'sshd' || (await netnsOf(pid)) !== own) continue;
    for (const s of await socketsOf(pid)) if (s.startsWith('tcp:')) ports.add(Number(s.slice(4)));
  }
  return [...ports];
}

/** The NAT side of one profile, or undefined when it has no [nat]/[forward] and no record. */
export async function observeNat(
  io: Io,
  name: string,
  profile: Profile | undefined,
  nsExists: boolean,
  ssh?: SshSession,
  records?: NatRecord[],
): Promise<NatObservation | undefined> {
  const all = records ?? (await readAllNatRecords(io.paths.runtimeDir));
  const record = all.find((r) => r.profile === name);
  if (!hasNat(profile?.nat) && !record) return undefined;
  const wantsSsh = profile?.nat?.forwards.some((f) => f.side === 'host' && f.proto === 'tcp') ?? false;
  const [host, ns, ports] = await Promise.all([
    observeSide(io, name, null),
    nsExists ? observeSide(io, name, name) : Promise.resolve(undefined),
    wantsSsh ? sshdPorts() : Promise.resolve([]),
  ]);
  return {
    host,
    ...(ns ? { ns } : {}),
    ...(record ? { record } : {}),
    others: all.filter((r) => r.profile !== name),
    sshPorts: [...new Set([...ports, ...(ssh?.localPort ? [ssh.localPort] : [])])].sort((a, b) => a - b),
  };
}

/**
 * For `down`, which is the way back and goes on past what it cannot read: the record, and the
 * host's side as far as it can be read (the namespace's goes with the namespace).
 */
export async function observeNatForDown(io: Io, name: string): Promise<NatObservation | undefined> {
  const all = await readAllNatRecords(io.paths.runtimeDir);
  const record = all.find((r) => r.profile === name);
  if (!record) return undefined;
  const host = await observeSide(io, name, null).catch(async () => ({
    sysctls: await hostSysctls(),
    unread: true as const,
  }));
  return { host, record, others: all.filter((r) => r.profile !== name), sshPorts: [] };
}

/** The host's forwarding sysctls, read from /proc (oob runs in the host's network namespace). */
async function hostSysctls(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const key of Object.values(FORWARD_SYSCTLS)) {
    const v = await fsp.readFile(`/proc/sys/${key.replace(/\./g, '/')}`, 'utf8').catch(() => undefined);
    if (v !== undefined) out[key] = v.trim();
  }
  return out;
}
