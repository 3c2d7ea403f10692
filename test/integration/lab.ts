// A throw-away lab for integration tests: a namespace that plays "the host", a veth pair whose
// host end plays the spare NIC, a "router" namespace holding the gateway. oob runs under
// `nsenter --net=<host>`, so a bug can only ever hurt links the test created.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseLinks, parseRoutes, splitBatchJson, type Link, type Route } from '../../src/net/ipjson.js';

export const CLI = new URL('../../src/cli.js', import.meta.url).pathname;
export const isRoot = () => process.geteuid?.() === 0;

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export function sh(argv: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const c = spawn(argv[0]!, argv.slice(1), { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('error', reject);
    c.stdin.on('error', () => {});
    c.stdin.end(opts.input ?? '');
    c.on('close', (code, sig) => resolve({ code: code ?? (sig ? 128 : 1), stdout, stderr }));
  });
}

export async function must(argv: string[], input?: string): Promise<string> {
  const r = await sh(argv, input !== undefined ? { input } : {});
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
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
  dir = '';
  profileDir = '';
  runtimeDir = '';

  static async create(): Promise<Lab> {
    const lab = new Lab();
    lab.dir = await fsp.mkdtemp(path.join(os.tmpdir(), `oobt-${lab.id}-`));
    lab.profileDir = path.join(lab.dir, 'profiles');
    lab.runtimeDir = path.join(lab.dir, 'run');
    await fsp.mkdir(lab.profileDir, { mode: 0o700 });
    try {
      await must(['ip', 'netns', 'add', lab.host]);
      await must(['ip', 'netns', 'add', lab.router]);
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
    return ns;
  }

  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, OOB_PROFILE_DIR: this.profileDir, OOB_RUNTIME_DIR: this.runtimeDir, ...extra };
    if (!('SSH_CONNECTION' in extra)) delete env.SSH_CONNECTION;
    return env;
  }

  /** Run oob inside the lab's host namespace. */
  oob(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Result> {
    // nsenter by its full path: a test may hand oob an empty PATH
    return sh(['/usr/bin/nsenter', `--net=/run/netns/${this.host}`, '--', process.execPath, CLI, ...args], { env: this.env(extraEnv) });
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
  async makeHostKey(): Promise<void> {
    await must(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', this.hostKey]);
  }

  /** An sshd copy of the lab's, listening on the management address (extra: -D -e, or '' to fork). */
  sshdCommand(extra = '-D -e'): string {
    return `/usr/sbin/sshd ${extra} -f /dev/null -o HostKey=${this.hostKey} -o ListenAddress=10.20.30.1 -o Port=22`;
  }

  seedProfile(extra = ''): string {
    return `[interface]\nnic = ${this.nic}\naddress = 10.20.30.1/24\ngateway = 10.20.30.20\n[dns]\nnameserver = 10.20.30.53\n${extra}`;
  }

  async namespaces(): Promise<string[]> {
    return (await fsp.readdir('/run/netns').catch(() => [] as string[])).filter((n) => n.includes(this.id));
  }

  /** Everything the lab made goes, also after a failure. */
  async destroy(): Promise<void> {
    for (const ns of [this.profile, ...this.extraNs, this.router, this.host]) {
      const pids = await sh(['ip', 'netns', 'pids', ns]);
      for (const p of pids.stdout.split(/\s+/).filter(Boolean)) try { process.kill(Number(p), 'SIGKILL'); } catch { /* gone */ }
      if ((await fsp.stat(`/run/netns/${ns}`).catch(() => null)) !== null) await sh(['ip', 'netns', 'del', ns]);
    }
    await fsp.rm(`/etc/netns/${this.profile}`, { recursive: true, force: true });
    if (this.dir) await fsp.rm(this.dir, { recursive: true, force: true });
  }
}

/** A TCP listener in a namespace that answers with a fixed text; returns when it listens. */
export async function listen(ns: string, addr: string, port: number, text: string): Promise<void> {
  const code = `require('net').createServer(s=>s.end(${JSON.stringify(text)})).listen(${port},${JSON.stringify(addr)})`;
  const c = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { detached: true, stdio: 'ignore' });
  c.unref();
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  for (let i = 0; i < 100; i++) {
    const r = await sh(['ip', 'netns', 'exec', ns, 'cat', '/proc/net/tcp', '/proc/net/tcp6']);
    if (r.stdout.split('\n').some((l) => l.includes(hex) && / 0A /.test(l))) return;
    await new Promise((r) => setTimeout(r, 30));
  }
  throw new Error(`listener in ${ns} did not start`);
}

/** Connect from inside a namespace (via nsenter, a plain netns switch) and return what the peer says. */
export async function ask(ns: string, addr: string, port: number): Promise<string> {
  const code = `const s=require('net').connect(${port},${JSON.stringify(addr)});let b='';s.setTimeout(3000,()=>{process.stdout.write('TIMEOUT');process.exit(0)});s.on('data',d=>b+=d);s.on('end',()=>process.stdout.write(b));s.on('error',e=>process.stdout.write(e.code))`;
  return (await sh(['nsenter', `--net=/run/netns/${ns}`, '--', process.execPath, '-e', code])).stdout;
}

/** Connect from inside a namespace and return the first bytes the peer sends (an SSH banner), or the error code. */
export async function banner(ns: string, addr: string, port: number): Promise<string> {
  const code = `const s=require('net').connect(${port},${JSON.stringify(addr)});s.setTimeout(2000,()=>{process.stdout.write('TIMEOUT');process.exit(0)});s.once('data',d=>{process.stdout.write(String(d).split('\\n')[0]);process.exit(0)});s.on('error',e=>{process.stdout.write(e.code);process.exit(0)})`;
  return (await sh(['nsenter', `--net=/run/netns/${ns}`, '--', process.execPath, '-e', code])).stdout.trim();
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T | undefined | false;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * For a suite that runs real sshd copies: skipped without root (with a visible line), refused
 * without openssh-server, and sshd's privilege separation directory created for the suite and
 * removed after it if the suite made it. Call it inside the suite's describe.
 */
export function needSshd(what: string): void {
  let created = false;
  before(async function () {
    if (!isRoot()) {
      console.log(`    SKIPPED: ${what} need root`);
      this.skip();
    }
    if (!existsSync('/usr/sbin/sshd')) throw new Error(`${what} need openssh-server (test/install-deps.sh installs it)`);
    if (!existsSync('/run/sshd')) {
      await fsp.mkdir('/run/sshd', { mode: 0o755 });
      created = true;
    }
  });
  after(async () => {
    if (created) await fsp.rm('/run/sshd', { recursive: true, force: true });
  });
}
