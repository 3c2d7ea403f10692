// A real systemd, booted in a container: the host's own root file system under an overlay (so
// nothing on the host changes; the upper layer is a tmpfs), `systemd-nspawn --keep-unit
// --register=no -b --network-veth`. Inside, host0 is a NIC; the host side of the veth is moved
// into a namespace of the test's, which plays the management LAN. Always powered off and
// unmounted at the end, also after a failure.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { deleteNamespaces, made, must, sh, waitFor, type Result } from './lab.js';

export const REPO = new URL('../../../', import.meta.url).pathname.replace(/\/$/, '');

/** A second NIC inside the container (`--network-veth-extra`), its peer in a namespace of the test's. */
export interface ExtraNic {
  /** its name inside the container (e.g. mgmt0) */
  inside: string;
  /** the address (with prefix) of its peer, lan0 in the namespace `extraLan` */
  peerAddress: string;
}

export class Container {
  readonly id = randomBytes(3).toString('hex');
  readonly machine = `oobt${this.id}`;
  readonly lan = `oobt-${this.id}-lan`;
  /** The namespace of the second NIC's peer (only with create({ extraNic })). */
  readonly extraLan = `oobt-${this.id}-xlan`;
  /** The second NIC's host side until boot moves it into extraLan. */
  private readonly extraPeer = `oobx${this.id}`;
  extraNic: ExtraNic | undefined;
  dir = '';
  merged = '';
  private layers = '';
  nspawn: ChildProcess | undefined;
  private exited: Promise<number> | undefined;
  console = '';
  initPid = 0;
  bootStartedAt = 0;

  static available(): boolean {
    return existsSync('/usr/bin/systemd-nspawn') && existsSync('/lib/systemd/systemd');
  }

  /** extraNic: a second veth NIC (default: host0 alone). */
  static async create(opts: { extraNic?: ExtraNic } = {}): Promise<Container> {
    const c = new Container();
    c.extraNic = opts.extraNic;
    made.ids.add(c.id);
    c.dir = await fsp.mkdtemp(path.join(os.tmpdir(), `oobt-${c.id}-ct-`));
    made.dirs.add(c.dir);
    c.layers = path.join(c.dir, 'layers');
    c.merged = path.join(c.dir, 'root');
    await fsp.mkdir(c.layers);
    await fsp.mkdir(c.merged);
    try {
      // upper and work on a tmpfs: an upper directory inside the lower (/) would overlap it
      await must(['mount', '-t', 'tmpfs', '-o', 'size=2g', 'tmpfs', c.layers]);
      await fsp.mkdir(path.join(c.layers, 'upper'));
      await fsp.mkdir(path.join(c.layers, 'work'));
      await must([
        'mount',
        '-t',
        'overlay',
        'overlay',
        '-o',
        `lowerdir=/,upperdir=${c.layers}/upper,workdir=${c.layers}/work`,
        c.merged,
      ]);
      await must(['ip', 'netns', 'add', c.lan]);
      if (c.extraNic) await must(['ip', 'netns', 'add', c.extraLan]);
    } catch (e) {
      await c.destroy();
      throw e;
    }
    return c;
  }

  /** Write a file into the container's file system (into the overlay's upper layer). */
  async write(p: string, content: string, mode = 0o644): Promise<void> {
    const f = path.join(this.merged, p);
    await fsp.mkdir(path.dirname(f), { recursive: true });
    await fsp.writeFile(f, content, { mode });
    await fsp.chmod(f, mode);
  }

  /** Boot (or boot again): returns once systemd inside says the system is up. */
  async boot(): Promise<void> {
    this.console = '';
    this.bootStartedAt = Date.now();
    const before = new Set(
      (await sh(['ip', '-o', 'link', 'show'])).stdout.split('\n').map((l) => l.split(': ')[1]?.split('@')[0]),
    );
    const p = spawn(
      'systemd-nspawn',
      [
        '--keep-unit',
        '--register=no',
        '-q',
        '-D',
        this.merged,
        '-M',
        this.machine,
        '-b',
        '--network-veth',
        ...(this.extraNic ? [`--network-veth-extra=${this.extraPeer}:${this.extraNic.inside}`] : []),
        `--bind-ro=${REPO}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.nspawn = p;
    p.stdout!.on('data', (d) => (this.console += d));
    p.stderr!.on('data', (d) => (this.console += d));
    this.exited = new Promise((r) => p.on('close', (code, sig) => r(code ?? (sig ? 128 : 1))));
    this.initPid = await waitFor(
      "the container's systemd",
      async () => {
        const kids = (await sh(['ps', '-o', 'pid=,comm=', '--ppid', String(p.pid)])).stdout.trim().split('\n');
        const init = kids.map((l) => l.trim().split(/\s+/)).find((f) => f[1] === 'systemd');
        return init ? Number(init[0]) : undefined;
      },
      30_000,
    );
    // the host side of the veth goes into the management LAN namespace, with the gateway address
    const veth = await waitFor(
      'the host side of the veth',
      async () => {
        const links = (await sh(['ip', '-o', 'link', 'show'])).stdout
          .split('\n')
          .map((l) => l.split(': ')[1]?.split('@')[0]);
        return links.find((l) => l && l.startsWith('ve-') && !before.has(l));
      },
      30_000,
    );
    await must(['ip', 'link', 'set', 'dev', veth, 'netns', this.lan]);
    await must(
      ['ip', '-n', this.lan, '-batch', '-'],
      `link set dev ${veth} name lan0\nlink set lo up\naddr add 10.20.30.20/24 dev lan0\nlink set lan0 up\n`,
    );
    if (this.extraNic) {
      await must(['ip', 'link', 'set', 'dev', this.extraPeer, 'netns', this.extraLan]);
      await must(
        ['ip', '-n', this.extraLan, '-batch', '-'],
        `link set dev ${this.extraPeer} name lan0\nlink set lo up\naddr add ${this.extraNic.peerAddress} dev lan0\nlink set lan0 up\n`,
      );
    }
    await waitFor(
      'the container to finish booting',
      async () => {
        const r = await this.exec(['systemctl', 'is-system-running']);
        return ['running', 'degraded'].includes(r.stdout.trim()) ? r.stdout.trim() : undefined;
      },
      120_000,
    );
  }

  /** Run a command inside, in all the container's namespaces. */
  exec(argv: string[], input?: string): Promise<Result> {
    return sh(['nsenter', '-t', String(this.initPid), '-a', ...argv], input !== undefined ? { input } : {});
  }

  async mustExec(argv: string[]): Promise<string> {
    const r = await this.exec(argv);
    if (r.code !== 0) throw new Error(`in the container: ${argv.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /** oob inside the container: the one the package installed there (installPackage). */
  oob(args: string[]): Promise<Result> {
    return this.exec(['/usr/bin/oob', ...args]);
  }

  /** Build oob_VERSION_all.deb from this checkout (npm run package) into DIR; returns its path. */
  static async buildPackage(dir: string, version?: string): Promise<string> {
    const r = await sh([
      process.execPath,
      `${REPO}/scripts/package.mjs`,
      '--out',
      dir,
      ...(version ? ['--version', version] : []),
    ]);
    if (r.code !== 0) throw new Error(`scripts/package.mjs failed (${r.code}): ${r.stderr}`);
    return r.stdout.trim().split('\n').pop()!;
  }

  /** dpkg -i inside the running container: into its overlay, never onto this machine. */
  async installPackage(deb: string): Promise<Result> {
    const inside = `/var/tmp/${path.basename(deb)}`;
    await fsp.copyFile(deb, path.join(this.merged, inside));
    return this.exec(['dpkg', '-i', inside]);
  }

  private async waitExit(ms: number): Promise<boolean> {
    if (!this.exited) return true;
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
    try {
      return (await Promise.race([this.exited.then(() => true), t])) as boolean;
    } finally {
      clearTimeout(timer);
    }
  }

  async reboot(): Promise<void> {
    await this.exec(['systemctl', 'reboot']);
    if (!(await this.waitExit(90_000))) throw new Error('the container did not reboot');
    await this.boot();
  }

  async poweroff(): Promise<void> {
    if (!this.nspawn || this.nspawn.exitCode !== null) return;
    await this.exec(['systemctl', 'poweroff']).catch(() => undefined);
    if (await this.waitExit(60_000)) return;
    this.nspawn.kill('SIGTERM');
    if (await this.waitExit(20_000)) return;
    this.nspawn.kill('SIGKILL');
    await this.waitExit(10_000);
  }

  async destroy(): Promise<void> {
    await this.poweroff();
    for (const m of [this.merged, this.layers]) if (m) await sh(['umount', '-l', m]);
    await deleteNamespaces(this.extraNic ? [this.lan, this.extraLan] : [this.lan], { ids: [this.id], dirs: [] });
    if (this.dir) await fsp.rm(this.dir, { recursive: true, force: true });
    await fsp.rm(`/run/systemd/nspawn/propagate/${this.machine}`, { recursive: true, force: true });
  }
}
