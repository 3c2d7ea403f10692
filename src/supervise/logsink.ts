// Where the supervisor's own lines go: its stderr, which must never kill it. A full or broken
// stderr (EPIPE when journald is gone, ENOSPC on /dev/full) is noticed and the lines are dropped;
// a reader too slow to keep up costs at most MAX_PENDING bytes, and the lines beyond are counted
// and dropped; when stderr is the supervisor.log that `oob start` opened, it is rotated
// (copy to LOG.1, truncate) at capBytes, so a chatty service cannot fill /run.
import { copyFileSync, fstatSync, ftruncateSync, readlinkSync } from 'node:fs';
import { withPriority } from '../sys/journal.js';

export const LOG_CAP_BYTES = 4 * 1024 * 1024;
export const MAX_PENDING = 1024 * 1024;

interface Sink {
  write(chunk: string): boolean;
  writableLength: number;
  on(ev: 'error', fn: (e: Error) => void): unknown;
}

export interface LogOptions {
  stream?: Sink;
  /** Rotate when the stream's file descriptor is this file. */
  rotate?: { fd: number; file: string; capBytes?: number };
  /** The stream is the journal: the writer's own notes carry a priority too. */
  journal?: boolean;
}

/**
 * A line of a service's output, after its prefix ("mgmt/sshd: "). For the journal, it carries a
 * priority: the one the service gave it (a leading sd-daemon "<N>", moved before the prefix), else
 * info; elsewhere the line is as the service wrote it.
 */
export function serviceLine(journal: boolean, prefix: string, line: string): string {
  if (!journal) return prefix + line;
  const m = /^<([0-7])>/.exec(line);
  return m ? `<${m[1]}>${prefix}${line.slice(m[0].length)}` : withPriority(true, 'info', prefix + line);
}

/** Is fd this regular file (the log `oob start` handed us)? */
export function fdIsFile(fd: number, file: string): boolean {
  try {
    return fstatSync(fd).isFile() && readlinkSync(`/proc/self/fd/${fd}`) === file;
  } catch {
    return false;
  }
}

/** Keep a broken stdout/stderr from becoming an uncaught exception. */
export function survivePipes(): void {
  for (const s of [process.stdout, process.stderr]) if (!s.listenerCount('error')) s.on('error', () => {});
}

export function logWriter(o: LogOptions = {}): (line: string) => void {
  const stream = o.stream ?? process.stderr;
  let broken = false;
  let dropped = 0;
  stream.on('error', () => (broken = true));
  const rot = o.rotate;
  const cap = rot?.capBytes ?? LOG_CAP_BYTES;
  let size = 0;
  if (rot) {
    try {
      size = fstatSync(rot.fd).size;
    } catch {
      /* not a file after all: no rotation */
    }
  }
  const put = (text: string) => {
    try {
      stream.write(text);
    } catch {
      broken = true;
    }
  };
  const rotate = () => {
    try {
      copyFileSync(rot!.file, `${rot!.file}.1`);
      ftruncateSync(rot!.fd, 0);
      size = 0;
      put(`(log rotated at ${cap} bytes: the earlier part is in ${rot!.file}.1)\n`);
    } catch {
      size = 0; // cannot rotate: do not retry at every line
    }
  };
  return (line: string) => {
    if (broken) return;
    if (stream.writableLength > MAX_PENDING) {
      dropped++;
      return;
    }
    let text = line + '\n';
    if (dropped) {
      text =
        withPriority(!!o.journal, 'warning', `(${dropped} line(s) dropped: the log could not keep up)`) + '\n' + text;
      dropped = 0;
    }
    put(text);
    if (rot) {
      size += Buffer.byteLength(text);
      if (size > cap) rotate();
    }
  };
}
