// A fake ServiceHost: processes that live until the test ends them, /proc answers from a table,
// and a clock that moves only when the test says so.
import type { Clock, ExitInfo, ServiceHost } from '../../../src/supervise/host.js';
import type { ServiceConfig } from '../../../src/profile/types.js';

export const flush = async () => {
  for (let i = 0; i < 30; i++) await new Promise((r) => setImmediate(r));
};

export class FakeClock implements Clock {
  t = Date.parse('2026-01-01T00:00:00Z');
  private timers: Array<{ at: number; fn: () => void; done: boolean }> = [];
  now = () => this.t;
  after = (ms: number, fn: () => void) => {
    const timer = { at: this.t + ms, fn, done: false };
    this.timers.push(timer);
    return () => void (timer.done = true);
  };
  sleep = (ms: number) => new Promise<void>((r) => this.after(ms, r));
  /** Move time forward, firing the timers due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await flush();
    for (;;) {
      const next = this.timers.filter((x) => !x.done && x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.t = next.at;
      next.done = true;
      next.fn();
      await flush();
    }
    this.t = end;
    await flush();
  }
  get pending() {
    return this.timers.filter((x) => !x.done).length;
  }
}

export class FakeProc {
  alive = true;
  readonly start: number;
  ports: number[] = [];
  private resolve!: (e: ExitInfo) => void;
  readonly exit = new Promise<ExitInfo>((r) => (this.resolve = r));
  constructor(
    readonly pid: number,
    readonly argv: readonly string[],
    readonly output: (l: string) => void,
  ) {
    this.start = pid * 7;
  }
  die(code: number | null, signal: string | null = null): void {
    if (!this.alive) return;
    this.alive = false;
    this.resolve({ code, signal });
  }
}

export const NS_ID = 'net:[4026532999]';

export class FakeHost implements ServiceHost {
  clock = new FakeClock();
  procs: FakeProc[] = [];
  /** Processes not started by us (adopted daemons). */
  others = new Map<number, { start: number; ns: string; ports: number[] }>();
  pidfiles = new Map<string, number>();
  runs: string[][] = [];
  /** Results of run() by the command's last word; default exit 0. */
  runResults = new Map<string, { code: number; message: string }>();
  terminated: Array<{ pid: number; signal: string }> = [];
  /** What a terminated child of ours exits with (null: killed by the signal). */
  private nextPid = 100;

  spawn(argv: readonly string[], _env: NodeJS.ProcessEnv, output: (l: string) => void) {
    const p = new FakeProc(this.nextPid++, argv, output);
    this.procs.push(p);
    return p;
  }
  get last(): FakeProc {
    return this.procs[this.procs.length - 1]!;
  }
  async run(argv: readonly string[]) {
    this.runs.push([...argv]);
    return this.runResults.get(argv[argv.length - 1]!) ?? { code: 0, message: '' };
  }
  private find(pid: number) {
    const p = this.procs.find((x) => x.pid === pid && x.alive);
    if (p) return { start: p.start, ns: NS_ID, ports: p.ports };
    return this.others.get(pid);
  }
  startTime = async (pid: number) => this.find(pid)?.start;
  netnsOf = async (pid: number) => this.find(pid)?.ns;
  listensOn = async (pid: number, port: number) => this.find(pid)?.ports.includes(port);
  readPidFile = async (f: string) => this.pidfiles.get(f);
  removeFile = async (f: string) => void this.pidfiles.delete(f);
  resolveUser = async (u: string) => (u === 'nobody' ? { uid: 65534, gid: 65534 } : `user "${u}" does not exist`);
  terminate = async (pid: number, _start: number | undefined, signal: string) => {
    this.terminated.push({ pid, signal });
    this.procs.find((x) => x.pid === pid)?.die(null, signal);
    this.others.delete(pid);
  };
}

export function def(o: Partial<ServiceConfig> = {}): ServiceConfig {
  return {
    name: 'svc',
    exec: ['/usr/sbin/daemon', '-D'],
    prestart: [],
    env: {},
    ready: { kind: 'none' },
    restart: 'always',
    restartDelayMs: 100,
    restartDelayMaxMs: 1000,
    stopSignal: 'SIGTERM',
    stopTimeoutMs: 1000,
    ...o,
  };
}
