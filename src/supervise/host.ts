// What a service copy needs from the system, as one interface passed in: starting a process,
// running a short command, /proc reads, ending a process, and the clock. The supervisor passes
// realHost(); unit tests pass a fake spawner and a fake clock, and run every transition without root.
import { promises as fsp } from 'node:fs';
import type { Readable } from 'node:stream';
import { CommandError, firstLine, spawnRunner, startLongRunning } from '../sys/run.js';
import { listensOn, netnsOf, readPidFile, resolveUser, startTime } from '../sys/proc.js';
import { terminate } from '../sys/terminate.js';
import { sleep } from '../sys/until.js';
import { LineSplitter } from './lines.js';

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  error?: Error;
}

/** A started process: its pid, its end (the process's exit, not the end of its output). */
export interface Proc {
  pid: number | undefined;
  exit: Promise<ExitInfo>;
}

export interface Clock {
  now(): number;
  /** A timer; the returned function cancels it. */
  after(ms: number, fn: () => void): () => void;
  sleep(ms: number): Promise<void>;
}

export interface ServiceHost {
  clock: Clock;
  /** Start a long-running process; every line of its output (bounded) goes to output. */
  spawn(argv: readonly string[], env: NodeJS.ProcessEnv, output: (line: string) => void): Proc;
  /** Run a short command to its end (bounded in time): exit code and the first line of its stderr. */
  run(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number; message: string }>;
  startTime(pid: number): Promise<number | undefined>;
  netnsOf(pid: number): Promise<string | undefined>;
  /** Does pid (or, with descendants, a descendant of it) hold a socket listening on TCP port?
   * undefined: pid is gone. */
  listensOn(pid: number, port: number, descendants: boolean): Promise<boolean | undefined>;
  readPidFile(file: string): Promise<number | undefined>;
  removeFile(file: string): Promise<void>;
  resolveUser(user: string, group: string | undefined): Promise<{ uid: number; gid: number } | string>;
  /** Signal, wait graceMs, SIGKILL, wait until gone. */
  terminate(pid: number, start: number | undefined, signal: string, graceMs: number): Promise<void>;
}

export const realClock: Clock = {
  now: Date.now,
  after: (ms, fn) => {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
  sleep,
};

function readLines(stream: Readable, output: (line: string) => void): void {
  const lines = new LineSplitter(output);
  stream.on('data', (b: Buffer) => lines.push(b));
  stream.on('end', () => lines.end());
  stream.on('error', () => {});
}

export function realHost(): ServiceHost {
  return {
    clock: realClock,
    spawn(argv, env, output) {
      const { child, exit } = startLongRunning(argv, env);
      // output is read until its pipes close, which may be long after the exit (children that
      // keep them open): neither waits for the other
      for (const s of [child.stdout, child.stderr]) if (s) readLines(s, output);
      return { pid: child.pid, exit };
    },
    async run(argv, env) {
      try {
        const r = await spawnRunner(argv, { env, allowFail: true });
        return { code: r.code, message: firstLine(r.stderr) || firstLine(r.stdout) };
      } catch (e) {
        if (e instanceof CommandError) return { code: e.result.code, message: e.message };
        return { code: 127, message: (e as Error).message };
      }
    },
    startTime,
    netnsOf,
    listensOn,
    readPidFile,
    removeFile: (f) => fsp.rm(f, { force: true }),
    resolveUser: (u, g) => resolveUser(u, g),
    async terminate(pid, start, signal, graceMs) {
      await terminate([{ pid, start }], { signal: signal as NodeJS.Signals, graceMs });
    },
  };
}
