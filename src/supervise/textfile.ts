// The supervisor's metrics for node_exporter's textfile collector: the profile's status as
// Prometheus text (rendered by the caller: commands/run.ts hands in status/prometheus.ts, which this
// folder may not import) written into the collector's directory when that directory exists,
// atomically (a temp file beside it, renamed; the collector reads only *.prom, never the temp file).
// A write follows every state change, but never two within the interval; with no change, the
// file is refreshed every interval, so a carrier or neighbour change (no event of the supervisor)
// shows within one interval too. The file is removed when the supervisor stops; a supervisor
// killed outright leaves it, with node_textfile_mtime_seconds telling its age.
import { promises as fsp } from 'node:fs';
import { writeFileAtomic } from '../sys/files.js';
import type { Priority } from '../sys/journal.js';

export const TEXTFILE_INTERVAL_MS = 10_000;

export interface TextfileOptions {
  /** The collector's directory; undefined: no metrics file. */
  dir: string | undefined;
  file: string;
  intervalMs?: number;
  /** The metrics text (ends in a newline). */
  render: () => Promise<string>;
  log: (m: string, p?: Priority) => void;
}

/** OOB_TEXTFILE_INTERVAL (seconds, 1-3600) as ms; the default, with a warning, when it is not one. */
export function textfileInterval(env: NodeJS.ProcessEnv, warn: (m: string) => void): number {
  const raw = env.OOB_TEXTFILE_INTERVAL;
  if (raw === undefined || raw === '') return TEXTFILE_INTERVAL_MS;
  const n = Number(raw);
  if (/^\d+(\.\d+)?$/.test(raw.trim()) && n >= 1 && n <= 3600) return Math.round(n * 1000);
  warn(
    `OOB_TEXTFILE_INTERVAL=${raw} is not a number of seconds from 1 to 3600: the metrics file is refreshed every ${TEXTFILE_INTERVAL_MS / 1000} s`,
  );
  return TEXTFILE_INTERVAL_MS;
}

const isDir = (d: string) =>
  fsp.stat(d).then(
    (s) => s.isDirectory(),
    () => false,
  );

export class Textfile {
  private timer: NodeJS.Timeout | undefined;
  /** When the next write is due (Infinity: none scheduled). */
  private due = Infinity;
  /** When the last write began. */
  private last = -Infinity;
  private writing: Promise<void> = Promise.resolve();
  private stopped = false;
  /** The last write failed (said once, until one succeeds). */
  private failing = false;
  private readonly interval: number;
  /** No write before this time (Date.now()) unless released: see holdUntil. */
  private notBefore = 0;

  constructor(private o: TextfileOptions) {
    this.interval = o.intervalMs ?? TEXTFILE_INTERVAL_MS;
  }

  /** The state changed: write soon (now, or one interval after the last write). */
  changed(): void {
    if (this.o.dir) this.schedule(Math.max(Date.now(), this.last + this.interval, this.notBefore));
  }

  /**
   * No write before at (Date.now() time) until release(): the start-up's services come first (a
   * write is `oob status`'s reading of the system: a shell and an ip per namespace). A change in
   * the meantime is written at release(), or at the latest at that time.
   */
  holdUntil(at: number): void {
    this.notBefore = at;
  }

  release(): void {
    if (!this.notBefore) return;
    this.notBefore = 0;
    if (this.due !== Infinity) this.schedule(Math.max(Date.now(), this.last + this.interval));
  }

  /** No more writes; the file is removed (after a write in flight). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.writing;
    if (this.o.dir)
      await fsp
        .rm(this.o.file, { force: true })
        .catch((e: Error) => this.o.log(`cannot remove the metrics file: ${e.message}`, 'warning'));
  }

  private schedule(at: number): void {
    if (this.stopped || at >= this.due) return;
    this.due = at;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), Math.max(0, at - Date.now()));
    // the supervisor lives by its lock, not by this timer
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.due = Infinity;
    await this.writing;
    if (this.stopped) return;
    this.last = Date.now();
    this.writing = this.writeOnce();
    await this.writing;
    this.schedule(this.last + this.interval);
  }

  private async writeOnce(): Promise<void> {
    const dir = this.o.dir!;
    try {
      // no collector directory (no node_exporter here): nothing to write, nothing to say
      if (!(await isDir(dir))) return;
      const text = await this.o.render();
      if (this.stopped) return;
      // world-readable: node_exporter runs as its own user
      await writeFileAtomic(this.o.file, text, 0o644);
      if (this.failing) this.o.log(`the metrics file is written again: ${this.o.file}`);
      this.failing = false;
    } catch (e) {
      if (!this.failing)
        this.o.log(
          `cannot write the metrics file ${this.o.file}: ${(e as Error).message} (trying again every ${this.interval / 1000} s)`,
          'warning',
        );
      this.failing = true;
    }
  }
}
