// Namespaces: a throw-away lab for integration tests. A namespace plays "the host", a veth pair's
// host end plays the spare NIC, a "router" namespace holds the gateway. oob runs under
// `nsenter --net=<host>`, so a bug can only ever hurt links the test created.
//
// Whatever runs in a namespace keeps it (and its links) alive after `ip netns del`, nameless. So
// the lab ends every process of its before it deletes its namespaces, also one in a namespace
// whose name was deleted under it, and leaves a record of what the whole run made for the root
// hook (../hooks.ts) to check at the end.
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseLinks, parseRoutes, splitBatchJson, type Link, type Route } from '../../../src/net/ipjson.js';
import { cmdline, netnsId, netnsOf } from '../../../src/sys/proc.js';
import { terminate } from '../../../src/sys/terminate.js';
import { CLI, DIST, must, sh, type Result } from './commands.js';
import { makeHostKey, sshdCommand } from './sshd.js';

const NETNS_DIR = '/run/netns';

/** What this run of the suite made: the ids in its namespace and link names, its temporary directories. */
export const made = {
  ids: new Set<string>(),
  dirs: new Set<string>(),
};

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

/** The links in the network namespace of a process (its /proc/PID/net/dev). */
async function linksOf(pid: number): Promise<string[]> {
  const text = await fsp.readFile(`/proc/${pid}/net/dev`, 'utf8').catch(() => '');
  return text
    .split('\n')
    .slice(2)
    .map((l) => l.split(':')[0]!.trim())
    .filter(Boolean);
}

export interface Owned {
  pid: number;
  argv: string;
  why: string;
}

/**
 * The processes of the labs named by `ids` and `dirs`: those in a namespace named after one of
 * the ids; those in a namespace without a name that holds a link named after one (a profile's
 * namespace deleted under its services still holds the lab's NIC); those with one of the dirs on
 * their command line (an sshd copy's host key). The inode of a namespace that is gone is reused
 * by the kernel for the next one, another run's maybe: it never says by itself whose it is.
 */
export async function processesOf(ids: string[], dirs: string[]): Promise<Owned[]> {
  const names = await namesByInode();
  const own = await netnsOf(process.pid);
  const named = (n: string | undefined) => n !== undefined && ids.some((id) => n.includes(id));
  const out: Owned[] = [];
  for (const d of await fsp.readdir('/proc')) {
    const pid = Number(d);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const ns = await netnsOf(pid);
    if (ns === undefined) continue;
    const argv = (await cmdline(pid))?.join(' ') ?? '';
    const name = names.get(ns);
    let why: string | undefined;
    if (named(name)) why = `in namespace ${name}`;
    else if (name === undefined && ns !== own) {
      const link = (await linksOf(pid)).find((l) => named(l));
      if (link) why = `in a namespace without a name (${ns}) that holds link ${link}`;
    }
    const dir = dirs.find((x) => argv.includes(x));
    if (!why && dir) why = `started with ${dir} on its command line`;
    if (why) out.push({ pid, argv, why });
  }
  return out;
}

/** End the processes of a lab (SIGKILL, waited for), then delete those of `names` that still have a name. */
export async function deleteNamespaces(names: string[], owner: { ids: string[]; dirs: string[] }): Promise<void> {
  const left = await terminate(
    (await processesOf(owner.ids, owner.dirs)).map((p) => p.pid),
    { signal: 'SIGKILL', graceMs: 0 },
  );
  if (left.length) throw new Error(`processes ${left.join(', ')} of the lab do not die`);
  for (const ns of names)
    if ((await fsp.stat(path.join(NETNS_DIR, ns)).catch(() => null)) !== null) await sh(['ip', 'netns', 'del', ns]);
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
  l && {
    name: l.ifname,
    mac: l.mac,
    mtu: l.mtu,
    up: l.up,
    alias: l.alias ?? null,
    addrs: l.addrs
      .filter((a) => a.scope !== 'link')
      .map((a) => `${a.local}/${a.prefixlen}`)
      .sort(),
  };
export const routeFacts = (rs: Route[], dev: string) =>
  rs
    .filter((r) => r.dev === dev && r.type === 'unicast' && !(r.family === 6 && r.dst.startsWith('fe80')))
    .map((r) => `${r.dst} via ${r.gateway ?? '-'} metric ${r.metric ?? '-'} proto ${r.protocol}`)
    .sort();

export class Lab {
  readonly id = randomBytes(3).toString('hex');
  readonly host = `oobt-${this.id}-h`;
  readonly router = `oobt-${this.id}-r`;
  readonly profile = `ot${this.id}`;
  readonly nic = `ot${this.id}n`;
  readonly extraNs: string[] = [];
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
      await must(
        ['ip', '-n', lab.host, '-batch', '-'],
        `link set lo up\nlink add ${lab.nic} type veth peer name r0 netns ${lab.router}\n`,
      );
      await must(
        ['ip', '-n', lab.router, '-batch', '-'],
        'link set lo up\naddr add 10.20.30.20/24 dev r0\naddr add 2001:db8:30::20/64 dev r0 nodad\nlink set r0 up\n',
      );
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
    return ns;
  }

  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      OOB_PROFILE_DIR: this.profileDir,
      OOB_RUNTIME_DIR: this.runtimeDir,
      // the lab's own persistent state (pending confirmations), never the host's /var/lib/oob
      OOB_STATE_DIR: path.join(this.dir, 'state'),
      // oob typed inside one of the lab's profile namespaces runs again in the lab's host, never in PID 1's
      OOB_HOST_NETNS: `/run/netns/${this.host}`,
      // and in this process's mount namespace (this machine's PID 1 does not let its own be opened)
      OOB_HOST_MNTNS: `/proc/${process.pid}/ns/mnt`,
      // the lab's own textfile-collector directory (absent unless a test makes it), never the host's
      OOB_TEXTFILE_DIR: path.join(this.dir, 'textfile'),
      ...extra,
    };
    if (!('SSH_CONNECTION' in extra)) delete env.SSH_CONNECTION;
    return env;
  }

  /** Run oob inside the lab's host namespace. */
  oob(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Result> {
    // nsenter by its full path: a test may hand oob an empty PATH
    return sh(['/usr/bin/nsenter', `--net=/run/netns/${this.host}`, '--', process.execPath, CLI, ...args], {
      env: this.env(extraEnv),
    });
  }

  /**
   * Run oob as an installed copy would run: the bundle (dist/oob.cjs and oob.bundle.cjs, which
   * `npm test` builds) copied into a root-owned directory that lasts (/var/lib/oob-test-ID), so that
   * what `oob enable` writes never depends on where this checkout happens to live (a clone under
   * /tmp is refused as a unit's ExecStart, rightly). Removed by destroy().
   */
  async oobInstalled(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Result> {
    const cli = await this.installedCli();
    return sh(['/usr/bin/nsenter', `--net=/run/netns/${this.host}`, '--', process.execPath, cli, ...args], {
      env: this.env(extraEnv),
    });
  }

  /** The installed copy's command (see oobInstalled), made on first use. */
  async installedCli(): Promise<string> {
    const dir = `/var/lib/oob-test-${this.id}`;
    if (!existsSync(path.join(dir, 'oob.cjs'))) {
      await fsp.mkdir(dir, { recursive: true, mode: 0o755 });
      for (const f of ['oob.cjs', 'oob.bundle.cjs']) await fsp.copyFile(path.join(DIST, f), path.join(dir, f));
      await fsp.chmod(path.join(dir, 'oob.cjs'), 0o755);
      // the unit template, where an install outside the package keeps it: units/ beside oob
      await fsp.mkdir(path.join(dir, 'units'), { mode: 0o755 });
      await fsp.copyFile(path.join(DIST, '..', 'units', 'oob@.service'), path.join(dir, 'units', 'oob@.service'));
    }
    return path.join(dir, 'oob.cjs');
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

  async namespaces(): Promise<string[]> {
    return (await namedNamespaces()).filter((n) => n.includes(this.id));
  }

  /**
   * Everything the lab made goes, also after a failure: first every process of its (see
   * processesOf: also one in a namespace whose name was deleted behind the lab's back), then the
   * namespaces, the DNS file, the directory.
   */
  async destroy(): Promise<void> {
    const names = [...new Set([this.profile, ...this.extraNs, ...(await this.namespaces()), this.router, this.host])];
    await deleteNamespaces(names, { ids: [this.id], dirs: this.dir ? [this.dir] : [] });
    await fsp.rm(`/etc/netns/${this.profile}`, { recursive: true, force: true });
    if (this.dir) await fsp.rm(this.dir, { recursive: true, force: true });
    await fsp.rm(`/var/lib/oob-test-${this.id}`, { recursive: true, force: true });
  }
}
