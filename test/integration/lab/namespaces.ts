// Namespaces: a throw-away lab for integration tests. A namespace plays "the host", a veth pair's
// host end plays the spare NIC, a "router" namespace holds the gateway. oob runs under
// `nsenter --net=<host>`, so a bug can only ever hurt links the test created.
//
// Whatever runs in a namespace keeps it (and its links) alive after `ip netns del`, nameless. So
// the lab remembers every namespace of its by inode as well as by name, ends every process in
// them before it deletes them (also those whose name was deleted behind its back), and leaves a
// record of what the whole run made for the root hook (../hooks.ts) to check at the end.
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseLinks, parseRoutes, splitBatchJson, type Link, type Route } from '../../../src/net/ipjson.js';
import { cmdline, netnsId, netnsOf } from '../../../src/sys/proc.js';
import { terminate } from '../../../src/sys/terminate.js';
import { CLI, must, sh, type Result } from './commands.js';
import { makeHostKey, sshdCommand } from './sshd.js';

const NETNS_DIR = '/run/netns';

/** What this run of the suite made: ids in namespace names, namespaces by inode, temporary directories. */
export const made = {
  ids: new Set<string>(),
  /** net:[inode] -> the name it had */
  namespaces: new Map<string, string>(),
  dirs: new Set<string>(),
};

/** Remember a namespace by its inode while it still has a name; returns the inode link, if it exists. */
export async function remember(ns: string): Promise<string | undefined> {
  const id = await netnsId(path.join(NETNS_DIR, ns));
  if (id) made.namespaces.set(id, ns);
  return id;
}

export async function namedNamespaces(): Promise<string[]> {
  return fsp.readdir(NETNS_DIR).catch(() => [] as string[]);
}

/** The namespaces that have a name now: net:[inode] -> name. */
export async function namesByInode(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const ns of await namedNamespaces()) {
    const id = await netnsId(path.join(NETNS_DIR, ns));
    if (id) out.set(id, ns);
  }
  return out;
}

const ofThisRun = (name: string) => [...made.ids].some((id) => name.includes(id));

/**
 * Every process whose network namespace is one of `ids` (net:[inode]), or whose command line
 * names `mark`. The kernel reuses the inode of a namespace that is gone: an inode that has the
 * name of another run's namespace now is not ours any more, and is left alone.
 */
export async function processesIn(ids: Set<string>, mark?: string): Promise<Array<{ pid: number; argv: string }>> {
  const names = await namesByInode();
  const ours = new Set([...ids].filter((id) => !names.has(id) || ofThisRun(names.get(id)!)));
  const out: Array<{ pid: number; argv: string }> = [];
  for (const d of await fsp.readdir('/proc')) {
    const pid = Number(d);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const ns = await netnsOf(pid);
    const argv = (await cmdline(pid))?.join(' ') ?? '';
    if ((ns && ours.has(ns)) || (mark && argv.includes(mark))) out.push({ pid, argv });
  }
  return out;
}

/** End what runs in the namespaces (SIGKILL, waited for), then delete those that still have a name. */
export async function deleteNamespaces(names: string[], inodes: Set<string> = new Set(), mark?: string): Promise<void> {
  for (const ns of names) {
    const id = await remember(ns);
    if (id) inodes.add(id);
  }
  const left = await terminate((await processesIn(inodes, mark)).map((p) => p.pid), { signal: 'SIGKILL', graceMs: 0 });
  if (left.length) throw new Error(`processes ${left.join(', ')} in the lab's namespaces do not die`);
  for (const ns of names) if ((await fsp.stat(path.join(NETNS_DIR, ns)).catch(() => null)) !== null) await sh(['ip', 'netns', 'del', ns]);
}

export interface NsSnapshot {
  links: Link[];
  routes: Route[];
}

export async function snapshot(ns: string): Promise<NsSnapshot> {
  const out = await must(['ip', '-n', ns, '-j', '-d', '-batch', '-'], 'addr show\nroute show table all\n');
  const [l, r] = splitBatchJson(out);
  return { links: parseLinks(l!), routes: parseRoutes(r!) };
}

/** The parts of a link that `down` promises to restore. */
export const linkFacts = (l: Link | undefined) =>
  l && { name: l.ifname, mac: l.mac, mtu: l.mtu, up: l.up, alias: l.alias ?? null, addrs: l.addrs.filter((a) => a.scope !== 'link').map((a) => `${a.local}/${a.prefixlen}`).sort() };
export const routeFacts = (rs: Route[], dev: string) =>
  rs.filter((r) => r.dev === dev && r.type === 'unicast' && !(r.family === 6 && r.dst.startsWith('fe80'))).map((r) => `${r.dst} via ${r.gateway ?? '-'} metric ${r.metric ?? '-'} proto ${r.protocol}`).sort();

export class Lab {
  readonly id = randomBytes(3).toString('hex');
  readonly host = `oobt-${this.id}-h`;
  readonly router = `oobt-${this.id}-r`;
  readonly profile = `ot${this.id}`;
  readonly nic = `ot${this.id}n`;
  readonly extraNs: string[] = [];
  /** Every namespace of the lab's ever seen, by inode: what runs in them ends with the lab. */
  private readonly inodes = new Set<string>();
  dir = '';
  profileDir = '';
  runtimeDir = '';

  static async create(): Promise<Lab> {
    const lab = new Lab();
    made.ids.add(lab.id);
    lab.dir = await fsp.mkdtemp(path.join(os.tmpdir(), `oobt-${lab.id}-`));
    made.dirs.add(lab.dir);
    lab.profileDir = path.join(lab.dir, 'profiles');
    lab.runtimeDir = path.join(lab.dir, 'run');
    await fsp.mkdir(lab.profileDir, { mode: 0o700 });
    try {
      await must(['ip', 'netns', 'add', lab.host]);
      await must(['ip', 'netns', 'add', lab.router]);
      await lab.track();
      await must(['ip', '-n', lab.host, '-batch', '-'], `link set lo up\nlink add ${lab.nic} type veth peer name r0 netns ${lab.router}\n`);
      await must(['ip', '-n', lab.router, '-batch', '-'], 'link set lo up\naddr add 10.20.30.20/24 dev r0\naddr add 2001:db8:30::20/64 dev r0 nodad\nlink set r0 up\n');
    } catch (e) {
      await lab.destroy();
      throw e;
    }
    return lab;
  }

  /** Another namespace of the lab's (destroyed with it). */
  async addNs(suffix: string): Promise<string> {
    const ns = `oobt-${this.id}-${suffix}`;
    await must(['ip', 'netns', 'add', ns]);
    this.extraNs.push(ns);
    await this.track();
    return ns;
  }

  /**
   * Remember the inodes of the lab's namespaces as they are now (oob makes the profile's): done
   * after create, addNs and every oob(), and at every look through namespaces().
   */
  async track(): Promise<void> {
    await this.namespaces();
  }

  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, OOB_PROFILE_DIR: this.profileDir, OOB_RUNTIME_DIR: this.runtimeDir, ...extra };
    if (!('SSH_CONNECTION' in extra)) delete env.SSH_CONNECTION;
    return env;
  }

  /** Run oob inside the lab's host namespace. */
  async oob(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Result> {
    // nsenter by its full path: a test may hand oob an empty PATH
    const r = await sh(['/usr/bin/nsenter', `--net=/run/netns/${this.host}`, '--', process.execPath, CLI, ...args], { env: this.env(extraEnv) });
    await this.track();
    return r;
  }

  /** Run a command in the lab's host namespace. */
  inHost(argv: string[], input?: string): Promise<string> {
    return must(['nsenter', `--net=/run/netns/${this.host}`, '--', ...argv], input);
  }

  async writeProfile(text: string, opts: { name?: string; mode?: number } = {}): Promise<string> {
    const f = path.join(this.profileDir, `${opts.name ?? this.profile}.ini`);
    await fsp.writeFile(f, text, { mode: opts.mode ?? 0o600 });
    await fsp.chmod(f, opts.mode ?? 0o600);
    return f;
  }

  get hostKey(): string {
    return path.join(this.dir, 'hostkey');
  }

  /** A host key of the lab's own, for its sshd copies. */
  makeHostKey(): Promise<void> {
    return makeHostKey(this.hostKey);
  }

  /** An sshd copy of the lab's, listening on the management address (extra: -D -e, or '' to fork). */
  sshdCommand(extra = '-D -e'): string {
    return sshdCommand(this.hostKey, extra);
  }

  seedProfile(extra = ''): string {
    return `[interface]\nnic = ${this.nic}\naddress = 10.20.30.1/24\ngateway = 10.20.30.20\n[dns]\nnameserver = 10.20.30.53\n${extra}`;
  }

  /** The lab's namespaces that have a name now (their inodes remembered on the way). */
  async namespaces(): Promise<string[]> {
    const names = (await namedNamespaces()).filter((n) => n.includes(this.id));
    for (const ns of names) {
      const id = await remember(ns);
      if (id) this.inodes.add(id);
    }
    return names;
  }

  /**
   * Everything the lab made goes, also after a failure: first every process in its namespaces
   * (also one whose name was deleted behind the lab's back) or started with its files, then the
   * namespaces, the DNS file, the directory.
   */
  async destroy(): Promise<void> {
    const names = [...new Set([this.profile, ...this.extraNs, ...(await this.namespaces()), this.router, this.host])];
    await deleteNamespaces(names, this.inodes, this.dir || undefined);
    await fsp.rm(`/etc/netns/${this.profile}`, { recursive: true, force: true });
    if (this.dir) await fsp.rm(this.dir, { recursive: true, force: true });
  }
}
