// The one module that starts other programs.
//
// Short commands (ip, systemd-notify) and the supervised services go through node:child_process:
// execa costs ~120 ms to import (more than all the `ip` work of an `oob up`, and every oob command
// starts a fresh Node) and ~15 MB of the supervisor's resident memory (measured: 61.2 MB with it,
// 54.7 MB without). execa runs the command of `oob exec`, with the terminal attached, where its
// handling of stdio, signals and exit status pays for its cost.
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { OobError } from '../errors.js';
import { stderrIsJournal, withPriority } from './journal.js';

// node:child_process (with dgram and the rest it loads) is loaded at the first command oob starts,
// not at every start: `oob --version`, `--help` and usage errors start none.
type ChildProcessModule = typeof import('node:child_process');
let childProcess: ChildProcessModule | undefined;
const spawn = ((...args: Parameters<ChildProcessModule['spawn']>) =>
  (childProcess ??= createRequire(import.meta.url)('node:child_process') as ChildProcessModule).spawn(
    ...args,
  )) as unknown as ChildProcessModule['spawn'];

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  /** Resolve with a non-zero code instead of throwing. */
  allowFail?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Kill the command and reject after this long (default DEFAULT_TIMEOUT_MS). */
  timeoutMs?: number;
}

/** Every command oob runs ends within this, unless its caller says otherwise. */
export const DEFAULT_TIMEOUT_MS = 30_000;

export type Runner = (argv: readonly string[], opts?: RunOptions) => Promise<RunResult>;

/** A failed command: carries the argv, exit code and stderr. */
export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: RunResult,
  ) {
    super(`${argv.join(' ')}: exit ${result.code}: ${firstLine(result.stderr) || '(no message)'}`);
    this.name = 'CommandError';
  }
}

/** A command that did not end in time: it was killed (SIGKILL); code 124, as timeout(1) says. */
export class CommandTimeout extends CommandError {
  constructor(
    argv: readonly string[],
    readonly timeoutMs: number,
    partial: { stdout: string; stderr: string },
  ) {
    super(argv, { code: 124, ...partial });
    this.message = `${argv.join(' ')}: no result after ${timeoutMs / 1000} s: killed`;
    this.name = 'CommandTimeout';
  }
}

export const firstLine = (s: string): string => s.trim().split('\n')[0] ?? '';

const TRACE = !!process.env.OOB_TRACE;
const trace = (argv: readonly string[], t0: number, code: number) =>
  process.stderr.write(
    withPriority(
      stderrIsJournal(),
      'debug',
      `oob trace: +${t0.toFixed(1)} ms ${argv.join(' ')} -> ${code} (${(performance.now() - t0).toFixed(1)} ms)`,
    ) + '\n',
  );

export const spawnRunner: Runner = (argv, opts = {}) =>
  new Promise((resolve, reject) => {
    // (the global performance loads perf_hooks, ~10 modules: only when tracing)
    const t0 = TRACE ? performance.now() : 0;
    const [file, ...args] = argv;
    if (!file) return reject(new Error('empty command'));
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ENOENT')
        reject(
          new OobError(
            'missingTool',
            `${file} is not installed (or not on PATH): install it (Debian: apt-get install ${packageOf(file)})`,
          ),
        );
      else reject(e);
    });
    child.stdin.on('error', () => {}); // the child may exit before reading its input
    child.stdin.end(opts.input ?? '');
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // after the kill, do not wait for the pipes: a child of the command may hold them open
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      child.stdout.destroy();
      child.stderr.destroy();
      if (TRACE) trace(argv, t0, 124);
      reject(
        new CommandTimeout(argv, timeoutMs, {
          stdout: Buffer.concat(out).toString(),
          stderr: Buffer.concat(err).toString(),
        }),
      );
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = {
        code: code ?? 128 + signalNumber(signal),
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      };
      if (TRACE) trace(argv, t0, result.code);
      if (result.code !== 0 && !opts.allowFail) reject(new CommandError(argv, result));
      else resolve(result);
    });
  });

function packageOf(file: string): string {
  const base = file.split('/').pop() ?? file;
  return (
    (
      {
        ip: 'iproute2',
        nsenter: 'util-linux',
        sshd: 'openssh-server',
        systemctl: 'systemd',
        nft: 'nftables',
      } as Record<string, string>
    )[base] ?? base
  );
}

function signalNumber(signal: NodeJS.Signals | null): number {
  if (!signal) return 0;
  const table: Record<string, number> = {
    SIGHUP: 1,
    SIGINT: 2,
    SIGQUIT: 3,
    SIGKILL: 9,
    SIGTERM: 15,
    SIGABRT: 6,
    SIGSEGV: 11,
    SIGPIPE: 13,
  };
  return table[signal] ?? 0;
}

/** Run a command with the terminal attached and return its exit status (used by `oob exec`). */
export async function runAttached(argv: readonly string[]): Promise<number> {
  const { execa } = await import('execa');
  const [file, ...args] = argv;
  const r = await execa(file!, args as string[], { stdio: 'inherit', reject: false });
  if (r.failed && r.exitCode === undefined && !r.signal) {
    const cause = r.cause as NodeJS.ErrnoException | undefined;
    if (cause?.code === 'ENOENT') throw new OobError('missingTool', `${argv[0]} is not installed (or not on PATH)`);
    throw new OobError('internal', String(r.shortMessage));
  }
  if (r.signal) return 128 + signalNumber((r.signal ?? null) as NodeJS.Signals | null);
  return r.exitCode ?? 1;
}

/** A process that lives on (a supervised service): its output as streams, its end as a promise. */
export interface LongRunning {
  child: ChildProcess;
  exit: Promise<{ code: number | null; signal: string | null; error?: Error }>;
}

/**
 * Its end is the process's exit ('exit'), not the end of its output ('close'): children of a
 * daemon (sshd's sessions) may hold its stdout/stderr open long after it died. The caller keeps
 * reading the streams until they close.
 */
export function startLongRunning(argv: readonly string[], env: NodeJS.ProcessEnv): LongRunning {
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exit = new Promise<{ code: number | null; signal: string | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, exit };
}

/** A process that outlives us: its own session, output to a file descriptor (or nowhere). */
export function startDetached(
  argv: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; outFd?: number } = {},
): ChildProcess {
  const out = opts.outFd ?? 'ignore';
  const child = spawn(argv[0]!, argv.slice(1), {
    detached: true,
    stdio: ['ignore', out, out],
    env: opts.env ?? process.env,
  });
  child.unref();
  return child;
}
