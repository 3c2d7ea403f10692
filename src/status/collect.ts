// Gather what `oob status` and `oob doctor` look at, with a bounded number of processes whatever
// the number of profiles: one `ip -j -d -batch` for the host, and three `ip -all netns exec`
// (addresses, routes, neighbours of every namespace at once); the rest is read from files:
// /run/netns, the state files and records, /proc (pids, sockets), the unit's wants link.
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Io } from '../io.js';
import { parseLinks, parseRoutes, type Link, type Route } from '../net/ipjson.js';
import { listNamespaces, observeNs, planPaths, readRecord } from '../net/observe.js';
import type { NicRecord, NsView } from '../plan/types.js';
import { listProfiles, loadProfile } from '../profile/load.js';
import type { Profile } from '../profile/types.js';
import { sameProcess } from '../supervise/procs.js';
import { readState, type SupervisorState } from '../supervise/state.js';
import { dropInPath, networkdRulePath, nmRulePath, unitName } from '../units/render.js';
import { OobError } from '../errors.js';

export interface Neighbour {
  dst: string;
  dev?: string;
  lladdr?: string;
  state: string;
}

export interface NsFull extends NsView {
  neigh: Neighbour[];
}

export interface ServiceSockets {
  [service: string]: string[];
}

export interface RawProfile {
  name: string;
  file: string;
  profile?: Profile;
  profileError?: string;
  ns?: NsFull;
  record?: NicRecord;
  state?: SupervisorState;
  supervisorAlive: boolean;
  dnsFile?: string;
  unit: { systemd: boolean; enabled: boolean | null; dropIn: boolean };
  managers: { networkManager: boolean; nmRule: boolean; networkd: boolean; networkdRule: boolean };
  sockets: ServiceSockets;
}

export interface Raw {
  at: string;
  host: NsView;
  profiles: RawProfile[];
}

export function parseNeigh(json: string): Neighbour[] {
  return (JSON.parse(json || '[]') as Array<Record<string, unknown>>).map((n) => ({
    dst: String(n.dst),
    ...(n.dev ? { dev: String(n.dev) } : {}),
    ...(n.lladdr ? { lladdr: String(n.lladdr) } : {}),
    state: Array.isArray(n.state) ? String(n.state[0] ?? 'NONE') : 'NONE',
  }));
}

/** Split `ip -all netns exec …` output into one text per namespace. */
export function splitAllNetns(out: string): Map<string, string> {
  const m = new Map<string, string>();
  const parts = out.split(/^netns: (\S+)\s*$/m);
  for (let i = 1; i + 1 < parts.length; i += 2) m.set(parts[i]!, parts[i + 1]!.trim());
  return m;
}

async function allNetns(io: Io, args: string[]): Promise<Map<string, string>> {
  const r = await io.run(['ip', '-all', 'netns', 'exec', 'ip', '-j', ...args], { allowFail: true });
  return splitAllNetns(r.stdout);
}

/** TCP sockets listening and UDP sockets bound by a process, from /proc. */
export async function socketsOf(pid: number): Promise<string[]> {
  const inodes = new Set<string>();
  for (const fd of await fsp.readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) {
    const l = await fsp.readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const m = /^socket:\[(\d+)\]$/.exec(l);
    if (m) inodes.add(m[1]!);
  }
  if (!inodes.size) return [];
  const out = new Set<string>();
  for (const [proto, file, state] of [['tcp', 'tcp', '0A'], ['tcp', 'tcp6', '0A'], ['udp', 'udp', '07'], ['udp', 'udp6', '07']] as const) {
    const text = await fsp.readFile(`/proc/${pid}/net/${file}`, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[3] === state && inodes.has(f[9]!)) out.add(`${proto}:${parseInt(f[1]!.split(':')[1]!, 16)}`);
    }
  }
  return [...out].sort();
}

export async function collect(io: Io, names: string[] | undefined, opts: { probe?: boolean } = {}): Promise<Raw> {
  const all = names?.length ? names : await listProfiles(io.paths.profileDir);
  if (!all.length) throw new OobError('noProfile', `no profiles in ${io.paths.profileDir}`);
  const namespaces = await listNamespaces(io);
  const ours = all.filter((n) => namespaces.includes(n));
  const [host, addrs, routes, neighs] = await Promise.all([
    observeNs(io, null),
    ours.length ? allNetns(io, ['-d', 'addr', 'show']) : new Map<string, string>(),
    ours.length ? allNetns(io, ['route', 'show', 'table', 'all']) : new Map<string, string>(),
    ours.length ? allNetns(io, ['neigh', 'show']) : new Map<string, string>(),
  ]);
  const systemd = existsSync('/run/systemd/system');
  const networkManager = existsSync('/usr/sbin/NetworkManager');
  const networkd = existsSync('/usr/lib/systemd/systemd-networkd') || existsSync('/lib/systemd/systemd-networkd');
  let neighOf = (ns: string) => parseNeigh(neighs.get(ns) ?? '[]');

  const profiles = await Promise.all(
    all.map(async (name): Promise<RawProfile> => {
      const file = path.join(io.paths.profileDir, `${name}.ini`);
      let profile: Profile | undefined;
      let profileError: string | undefined;
      try {
        profile = await loadProfile(io.paths.profileDir, name);
      } catch (e) {
        profileError = e instanceof OobError ? e.message : String(e);
      }
      const pp = planPaths(io, name);
      const [record, state, dnsFile, wants, dropIn, nmRule, networkdRule] = await Promise.all([
        readRecord(pp.recordFile),
        readState(io.paths.runtimeDir, name),
        fsp.readFile(pp.dnsFile, 'utf8').catch(() => undefined),
        fsp.lstat(`/etc/systemd/system/multi-user.target.wants/${unitName(name)}`).then(() => true, () => false),
        fsp.stat(dropInPath(name)).then(() => true, () => false),
        fsp.stat(nmRulePath(name)).then(() => true, () => false),
        fsp.stat(networkdRulePath(name)).then(() => true, () => false),
      ]);
      const supervisorAlive = !!state && (await sameProcess(state.supervisor.pid, state.supervisor.pidStart));
      const sockets: ServiceSockets = {};
      if (supervisorAlive) for (const [svc, st] of Object.entries(state!.services)) if (st.pid) sockets[svc] = await socketsOf(st.pid);
      const nsText = addrs.get(name);
      const ns: NsFull | undefined = ours.includes(name) && nsText !== undefined ? { links: parseLinks(nsText), routes: parseRoutes(routes.get(name) ?? '[]'), neigh: neighOf(name) } : undefined;
      return {
        name, file,
        ...(profile ? { profile } : {}), ...(profileError ? { profileError } : {}),
        ...(ns ? { ns } : {}), ...(record ? { record } : {}), ...(state ? { state } : {}),
        supervisorAlive,
        ...(dnsFile !== undefined ? { dnsFile } : {}),
        unit: { systemd, enabled: systemd ? wants : null, dropIn },
        managers: { networkManager, nmRule, networkd, networkdRule },
        sockets,
      };
    }),
  );

  if (opts.probe) {
    // An ARP probe to each IPv4 gateway (a neighbour entry set to PROBE with the broadcast
    // address: the kernel asks who has it, and the answer fills in the real one); an IPv6
    // gateway already known is re-probed at its known address. Nothing else leaves.
    const probed: string[] = [];
    for (const p of profiles) {
      const nic = p.ns?.links.find((l) => l.alias?.startsWith(`oob:${p.name}:`));
      if (!nic) continue;
      for (const r of p.ns!.routes.filter((x) => x.dst === 'default' && x.gateway && x.table === 'main')) {
        const known = p.ns!.neigh.find((n) => n.dst === r.gateway && n.lladdr);
        const lladdr = r.family === 4 ? 'ff:ff:ff:ff:ff:ff' : known?.lladdr;
        if (!lladdr) continue;
        await io.run(['ip', '-n', p.name, 'neigh', 'replace', r.gateway!, 'dev', r.dev ?? nic.ifname, 'lladdr', lladdr, 'nud', 'probe'], { allowFail: true });
        probed.push(p.name);
      }
    }
    if (probed.length) {
      const deadline = Date.now() + 1500;
      let fresh = new Map<string, string>();
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 150));
        fresh = await allNetns(io, ['neigh', 'show']);
        const pending = probed.some((n) => parseNeigh(fresh.get(n) ?? '[]').some((x) => x.state === 'PROBE'));
        if (!pending) break;
      }
      neighOf = (ns: string) => parseNeigh(fresh.get(ns) ?? '[]');
      for (const p of profiles) if (p.ns && probed.includes(p.name)) p.ns.neigh = neighOf(p.name);
    }
  }
  return { at: new Date().toISOString(), host, profiles };
}

export type { Link, Route };
