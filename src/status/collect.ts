// Gather what `oob status` and `oob doctor` look at, with one process per namespace for every
// check together, never one per check: one `ip -j -d -batch` for the host and one
// `ip -n NS -j -d -batch` per profile namespace (addresses, routes, neighbours); the rest is read
// from files: /run/netns, the state files and records, /proc (pids, sockets), the unit's wants link.
// The `ip` processes (the host's and the namespaces') are started by ONE small shell, side by side,
// not by Node: Node forks its whole (large) process for every child, synchronously, ~13 ms each on
// the bench machine, which made 50 namespaces cost ~0.7 s of the main thread alone (measured with
// --cpu-prof). The shell writes into a directory Node made and Node reads it: no mktemp, cat or rm.
// (`ip -all netns exec` would be one process too, but it enters every namespace of the host, ours
// or not, one after the other, each with a mount namespace of its own.)
import { existsSync, promises as fsp, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Io } from '../sys/io.js';
import type { Link, NsFull, Route } from '../net/ipjson.js';
import { listNamespaces, nsBatch, nsReadError, observeNs, parseNsBatch } from '../observe/observe.js';
import { parseLinks, parseNeigh, parseRoutes, splitBatchJson } from '../net/ipjson.js';
import type { NsView } from '../observe/types.js';
import { networkdRulePath, nmRulePath, profileFile, runtimePaths, wantsLink } from '../state/layout.js';
import { readRecord, type NicRecord } from '../state/record.js';
import { pendingOf, type Pending } from '../state/pending.js';
export type { Neighbour, NsFull } from '../net/ipjson.js';
import { dirChecks, listProfiles, loadProfile } from '../profile/load.js';
import type { Profile } from '../profile/types.js';
import { sameProcess, socketsOf } from '../sys/proc.js';
import { readState, type SupervisorState } from '../state/supervisor.js';
import { readLease, type Lease } from '../state/lease.js';
import { OobError } from '../errors.js';
import { probeGateways, type ProbeResult } from './probe.js';
import { observeNat, type NatObservation } from '../observe/nat.js';
import { readAllNatRecords } from '../state/nat.js';

export interface ServiceSockets {
  [service: string]: string[];
}

export interface RawProfile {
  name: string;
  file: string;
  /** Where a detached supervisor's output goes (oob start). */
  logFile: string;
  profile?: Profile;
  profileError?: string;
  ns?: NsFull;
  record?: NicRecord;
  state?: SupervisorState;
  supervisorAlive: boolean;
  /** A change made with --confirm that waits for `oob confirm` (state/pending.ts). */
  pending?: Pending & { alive: boolean };
  /** The services whose pid in the state file is not that process any more (dead, or the pid reused). */
  goneServices: string[];
  dnsFile?: string;
  /** address = dhcp: the lease the client's hook wrote (state/lease.ts). */
  lease?: Lease;
  /** address = dhcp6: the lease the DHCPv6 client's hook wrote. */
  lease6?: Lease;
  unit: { systemd: boolean; enabled: boolean | null };
  managers: { networkManager: boolean; nmRule: boolean; networkd: boolean; networkdRule: boolean };
  sockets: ServiceSockets;
  /** With --probe: what the probe of each default gateway (by address) found. */
  probes?: Record<string, ProbeResult>;
  /** [nat]/[forward]: oob's tables and the forwarding sysctls (observe/nat.ts); natError: why they could not be read. */
  nat?: NatObservation;
  natError?: string;
}

export interface Raw {
  at: string;
  host: NsView;
  profiles: RawProfile[];
}

/** Runs `ip -j -d -batch` for the host and `ip -n NS -j -d -batch` for each namespace ($2...), side by
 * side (at most 32 at a time), each into a file of the directory Node made ($1, which holds the
 * batches h and b): the host's output in 0, its errors in 0e, its exit code in 0r; namespace k's output
 * and errors in k, then "@@oob-rc CODE". Node reads the files: no process besides the shell and the ip's. */
const MANY_NS = `d=$1; shift
{ ip -j -d -batch "$d/h" >"$d/0" 2>"$d/0e"; echo $? >"$d/0r"; } &
i=0
for ns; do
  i=$((i+1))
  { ip -n "$ns" -j -d -batch "$d/b" 2>&1; rc=$?; echo; echo "@@oob-rc $rc"; } >"$d/$i" &
  [ $((i % 32)) -ne 0 ] || wait
done
wait`;

/** Without a temporary directory (a read-only /tmp): the namespaces one after the other, straight to
 * the output, each as "@@oob-ns", its output and errors, "@@oob-rc CODE". */
const ONE_BY_ONE = `b=$1; shift
for ns; do
  echo @@oob-ns; printf '%s' "$b" | ip -n "$ns" -j -d -batch - 2>&1; rc=$?; echo; echo "@@oob-rc $rc"
done`;

const NS_BATCH = 'addr show\nroute show table all\nneigh show\n';

/** A namespace's links, routes and neighbours from its section; undefined for one that cannot be entered (a stale entry). */
function nsSection(sec: string): NsFull | undefined {
  if (!/@@oob-rc 0\s*$/.test(sec)) return undefined;
  const [links, routes, neigh] = splitBatchJson(sec);
  return { links: parseLinks(links ?? '[]'), routes: parseRoutes(routes ?? '[]'), neigh: parseNeigh(neigh ?? '[]') };
}

/** The host's view and each namespace's (undefined for one that cannot be entered), with one process
 * started by Node: a small shell that runs the ip's. started() is called once the commands are on
 * their way, so that the caller reads its files meanwhile without queueing in front of them. */
async function observeAll(io: Io, names: string[], started: () => void): Promise<[NsView, (NsFull | undefined)[]]> {
  if (!names.length) {
    const host = observeNs(io, null);
    started();
    return [await host, []];
  }
  const d = await fsp.mkdtemp(join(tmpdir(), 'oob-status-')).catch(() => undefined);
  if (!d) {
    const running = Promise.all([
      observeNs(io, null),
      io.run(['sh', '-c', ONE_BY_ONE, 'oob-status', NS_BATCH, ...names]),
    ]);
    started();
    const [host, r] = await running;
    const sections = r.stdout.split('@@oob-ns\n').slice(1);
    if (sections.length !== names.length)
      throw new OobError(
        'precondition',
        `cannot read the namespaces' network state (${r.stderr.trim() || 'no output'})`,
      );
    return [host, sections.map(nsSection)];
  }
  try {
    await Promise.all([fsp.writeFile(join(d, 'h'), nsBatch(null)), fsp.writeFile(join(d, 'b'), NS_BATCH)]);
    const running = io.run(['sh', '-c', MANY_NS, 'oob-status', d, ...names]);
    started();
    await running;
    // small files of our own in tmpfs: read at once, not through the thread pool (4 calls each)
    const read = (f: string) => {
      try {
        return readFileSync(join(d, f), 'utf8');
      } catch {
        return '';
      }
    };
    const [out, err, rc, ...sections] = ['0', '0e', '0r', ...names.map((_, i) => String(i + 1))].map(read);
    if (rc!.trim() !== '0') throw nsReadError(io, null, err || 'no output');
    return [parseNsBatch(out!, null), sections.map(nsSection)];
  } finally {
    await fsp.rm(d, { recursive: true, force: true });
  }
}

export async function collect(io: Io, names: string[] | undefined, opts: { probe?: boolean } = {}): Promise<Raw> {
  const all = names?.length ? names : await listProfiles(io.paths.profileDir);
  if (!all.length) throw new OobError('noProfile', `no profiles in ${io.paths.profileDir}`);
  const namespaces = await listNamespaces(io);
  if (names?.length) {
    // a name with no profile, no namespace and no record is a typo, not a profile that is down
    const have = await listProfiles(io.paths.profileDir);
    for (const n of names) {
      if (have.includes(n) || namespaces.includes(n) || (await readRecord(runtimePaths(io.paths, n).recordFile)))
        continue;
      throw new OobError(
        'noProfile',
        `no profile "${n}" in ${io.paths.profileDir}${have.length ? `; profiles there: ${have.join(', ')}` : ''}`,
      );
    }
  }
  const ours = all.filter((n) => namespaces.includes(n));
  // the namespaces are read (by the shell's ip's) while Node reads the profiles and state files
  let started!: () => void;
  const onTheirWay = new Promise<void>((r) => (started = r));
  const observed = Promise.all([observeAll(io, ours, started), readAllNatRecords(io.paths.runtimeDir)]);
  observed.catch(() => {}); // its error is thrown where it is awaited, below
  await Promise.race([onTheirWay, observed]);
  const systemd = existsSync('/run/systemd/system');
  const networkManager = existsSync('/usr/sbin/NetworkManager');
  const networkd = existsSync('/usr/lib/systemd/systemd-networkd') || existsSync('/lib/systemd/systemd-networkd');

  const checks = dirChecks(); // the directories above the profiles: checked once for all of them
  const profiles = await Promise.all(
    all.map(async (name): Promise<RawProfile> => {
      const file = profileFile(io.paths.profileDir, name);
      let profile: Profile | undefined;
      let profileError: string | undefined;
      try {
        profile = await loadProfile(io.paths.profileDir, name, { checks });
      } catch (e) {
        profileError = e instanceof OobError ? e.message : String(e);
      }
      const pp = runtimePaths(io.paths, name);
      const [pending, record, state, dnsFile, wants, nmRule, networkdRule] = await Promise.all([
        pendingOf(io, name),
        readRecord(pp.recordFile),
        readState(io.paths, name),
        fsp.readFile(pp.dnsFile, 'utf8').catch(() => undefined),
        fsp.lstat(wantsLink(name)).then(
          () => true,
          () => false,
        ),
        fsp.stat(nmRulePath(name)).then(
          () => true,
          () => false,
        ),
        fsp.stat(networkdRulePath(name)).then(
          () => true,
          () => false,
        ),
      ]);
      const supervisorAlive = !!state && (await sameProcess(state.supervisor.pid, state.supervisor.pidStart));
      const sockets: ServiceSockets = {};
      const goneServices: string[] = [];
      if (supervisorAlive)
        for (const [svc, st] of Object.entries(state!.services)) {
          if (!st.pid) continue;
          // the state file is the supervisor's word, written at each change; when it cannot write
          // (a full /run) the word goes stale: a dead pid is never shown as ready
          if (!(await sameProcess(st.pid, st.pidStart))) goneServices.push(svc);
          else sockets[svc] = await socketsOf(st.pid);
        }
      const [[, views], natRecords] = await observed;
      const ns = views[ours.indexOf(name)];
      const lease = profile?.iface?.dhcp4 ? await readLease(io.paths.runtimeDir, name) : undefined;
      let nat: NatObservation | undefined;
      let natError: string | undefined;
      try {
        nat = await observeNat(io, name, profile, !!ns, undefined, natRecords);
      } catch (e) {
        natError = e instanceof OobError ? e.message : String(e);
      }
      const lease6 = profile?.iface?.dhcp6 ? await readLease(io.paths.runtimeDir, name, 6) : undefined;
      return {
        ...(lease ? { lease } : {}),
        ...(lease6 ? { lease6 } : {}),
        ...(nat ? { nat } : {}),
        ...(natError ? { natError } : {}),
        name,
        file,
        logFile: pp.logFile,
        ...(profile ? { profile } : {}),
        ...(profileError ? { profileError } : {}),
        ...(ns ? { ns } : {}),
        ...(record ? { record } : {}),
        ...(pending ? { pending } : {}),
        ...(state ? { state } : {}),
        supervisorAlive,
        goneServices,
        ...(dnsFile !== undefined ? { dnsFile } : {}),
        unit: { systemd, enabled: systemd ? wants : null },
        managers: { networkManager, nmRule, networkd, networkdRule },
        sockets,
      };
    }),
  );

  const [[host]] = await observed;
  if (opts.probe) await probeGateways(io, profiles);
  return { at: new Date().toISOString(), host, profiles };
}

export type { Link, Route };
