// Read the host's state: links, addresses and routes of the host and of the profile's namespace
// (one `ip -j -batch` process per namespace, run side by side), the record and the DNS file.
import { promises as fsp } from 'node:fs';
import { OobError } from '../errors.js';
import {
  parseLinks,
  parseNeigh,
  parseRoutes,
  parseRules,
  splitBatchJson,
  type Link,
  type NsFull,
} from '../net/ipjson.js';
import { runtimePaths } from '../state/layout.js';
import { readNsRecord, readRecord } from '../state/record.js';
import { readFileOr } from '../sys/files.js';
import type { Io } from '../sys/io.js';
import { CommandError, firstLine } from '../sys/run.js';
import { sharedNics } from './nic.js';
import { hasNic, type Profile } from '../profile/types.js';
import { withIpv6Rules } from './rules.js';
import { observeSession } from './session.js';
import type { HostObservation, NsView, Observation } from './types.js';

export { parseSshConnection } from './session.js';

/** What `ip [-n NS] -j -d -batch` reads for observeNs: the host's policy rules too (IPv4: a batch
 *  reads one family), for the lock-out guard. */
export const nsBatch = (ns: string | null, opts: { neigh?: boolean } = {}): string =>
  `addr show\nroute show table all\n${opts.neigh ? 'neigh show\n' : ''}${ns === null ? 'rule show\n' : ''}`;

/** The error of a namespace (or the host) whose network state cannot be read. */
export const nsReadError = (io: Io, ns: string | null, stderr: string): OobError =>
  new OobError(
    'precondition',
    `cannot read ${ns ? `namespace ${ns}` : 'the host'}'s network state (${firstLine(stderr)})${ns ? `: if ${io.paths.netnsRunDir}/${ns} is stale, remove it with: ip netns del ${ns}` : ''}`,
  );

/** What observeNs makes of the output of nsBatch. */
export function parseNsBatch(out: string, ns: string | null, opts: { neigh?: boolean } = {}): NsView | NsFull {
  const parts = splitBatchJson(out);
  if (!opts.neigh) parts.splice(2, 0, '[]'); // no neigh show: the rules come third
  const [links, routes, neigh, rules] = parts;
  const view: NsView = {
    links: parseLinks(links ?? '[]'),
    routes: parseRoutes(routes ?? '[]'),
    ...(ns === null ? { rules: parseRules(rules ?? '[]', 4) } : {}),
  };
  return opts.neigh ? { ...view, neigh: parseNeigh(neigh ?? '[]') } : view;
}

/** A namespace's links (with addresses) and routes, and with `neigh` its neighbours too: one `ip -batch` process. */
export async function observeNs(io: Io, ns: string | null): Promise<NsView>;
export async function observeNs(io: Io, ns: string | null, opts: { neigh: true }): Promise<NsFull>;
export async function observeNs(io: Io, ns: string | null, opts: { neigh?: boolean } = {}): Promise<NsView | NsFull> {
  const argv = ['ip', ...(ns ? ['-n', ns] : []), '-j', '-d', '-batch', '-'];
  let out: string;
  try {
    out = (await io.run(argv, { input: nsBatch(ns, opts) })).stdout;
  } catch (e) {
    if (e instanceof CommandError) throw nsReadError(io, ns, e.result.stderr);
    throw e;
  }
  return parseNsBatch(out, ns, opts);
}

export async function listNamespaces(io: Io): Promise<string[]> {
  try {
    return (await fsp.readdir(io.paths.netnsRunDir)).sort();
  } catch {
    return [];
  }
}

export async function observeHost(io: Io, namespaces?: string[]): Promise<HostObservation> {
  const [names, host, hostNetns, ssh] = await Promise.all([
    namespaces ?? listNamespaces(io),
    observeNs(io, null).then((h) => withIpv6Rules(io, h)),
    fsp.readlink('/proc/self/ns/net').catch(() => 'unknown'),
    observeSession(io.env),
  ]);
  return { host, hostNetns, namespaces: names, ...(ssh ? { ssh } : {}) };
}

/** One profile's own side: its namespace (if it exists), its record, its DNS file. */
async function profileSide(io: Io, ns: string, namespaces: string[]) {
  const paths = runtimePaths(io.paths, ns);
  const [nsSide, record, nsRecord, dnsFile] = await Promise.all([
    namespaces.includes(ns) ? observeOwnNs(io, ns) : Promise.resolve({}),
    readRecord(paths.recordFile),
    readNsRecord(paths.nsRecordFile),
    readFileOr(paths.dnsFile, undefined),
  ]);
  return {
    ...nsSide,
    ...(record ? { record } : {}),
    ...(nsRecord ? { nsRecord } : {}),
    ...(dnsFile !== undefined ? { dnsFile } : {}),
  };
}

/** One profile's side: its namespace (if it exists), its record, its DNS file. */
export async function observeProfile(io: Io, ns: string, base: HostObservation): Promise<Observation> {
  return { ...base, ...(await profileSide(io, ns, base.namespaces)) };
}

/** The host and the profiles, as observeHost and observeProfile see them, with every `ip` side by
 *  side: which namespaces exist is read first (/run/netns), so the profiles' reads need not wait for the host's. */
export async function observeHostAndProfiles(
  io: Io,
  names: string[],
): Promise<{ base: HostObservation; states: Observation[] }> {
  const namespaces = await listNamespaces(io);
  const [base, sides] = await Promise.all([
    observeHost(io, namespaces),
    Promise.all(names.map((n) => profileSide(io, n, namespaces))),
  ]);
  return { base, states: sides.map((side) => ({ ...base, ...side })) };
}

/**
 * The profile's namespace, or why it cannot be read: a /run/netns/NAME that is no namespace (left by
 * an `ip netns add` killed between creating the file and mounting the namespace on it). Whether
 * that is oob's to clean, the planner decides from the record.
 */
async function observeOwnNs(io: Io, ns: string): Promise<Pick<Observation, 'ns' | 'nsStale'>> {
  try {
    return { ns: await observeNs(io, ns) };
  } catch (e) {
    if (e instanceof OobError && e.code === 'precondition') return { nsStale: e.message };
    throw e;
  }
}

export async function observe(io: Io, ns: string): Promise<Observation> {
  return observeProfile(io, ns, await observeHost(io));
}

/** Where is a NIC that is neither in the host nor in the profile's namespace? Only asked on that error path. */
export async function findNicElsewhere(io: Io, match: (l: Link) => boolean, skip: string): Promise<string | undefined> {
  for (const ns of await listNamespaces(io)) {
    if (ns === skip) continue;
    const r = await io.run(['ip', '-n', ns, '-j', 'link', 'show'], { allowFail: true });
    if (r.code !== 0) continue;
    const l = parseLinks(r.stdout).find(match);
    if (l) return `${ns} (as ${l.ifname})`;
  }
  return undefined;
}

/** The links a NIC selector can match now: the host's, and those in the namespaces given that can be entered (profiles that are up). */
export async function visibleLinks(io: Io, namespaces: string[]): Promise<Link[]> {
  const present = new Set(await listNamespaces(io));
  const views = await Promise.all(
    [observeNs(io, null), ...namespaces.filter((n) => present.has(n)).map((n) => observeNs(io, n))].map((v) =>
      v.catch(() => undefined),
    ),
  );
  return views.flatMap((v) => v?.links ?? []);
}

/** `oob check`: the profiles (two or more) that select one NIC, against the links as they are now (sharedNics). */
export const sharedNicsNow = async (io: Io, all: Profile[]): Promise<string[]> => {
  const profiles = all.filter(hasNic);
  return profiles.length > 1
    ? sharedNics(
        profiles,
        await visibleLinks(
          io,
          profiles.map((p) => p.name),
        ),
      )
    : [];
};
