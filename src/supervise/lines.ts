// A service's output, cut into lines with bounded memory: a line longer than maxLine bytes is cut
// there and marked, and the rest of it up to its newline is skipped, so neither a flood nor a
// 700 MB line without a newline can grow the supervisor.

export const MAX_LINE = 4096;
export const TRUNCATED = ' [line truncated]';

export class LineSplitter {
  private parts: Buffer[] = [];
  private held = 0;
  /** Inside an over-long line: skip up to its newline. */
  private skipping = false;

  constructor(
    private emit: (line: string) => void,
    private maxLine = MAX_LINE,
  ) {}

  push(chunk: Buffer): void {
    let from = 0;
    while (from < chunk.length) {
      const nl = chunk.indexOf(10, from);
      const end = nl === -1 ? chunk.length : nl;
      if (this.skipping) {
        if (nl === -1) return;
        this.skipping = false;
        from = nl + 1;
        continue;
      }
      const room = this.maxLine - this.held;
      if (end - from > room) {
        this.parts.push(chunk.subarray(from, from + room));
        this.flush(true);
        this.skipping = nl === -1;
        from = nl === -1 ? chunk.length : nl + 1;
        continue;
      }
      // copy what is held: the chunk's memory is not ours to keep
      if (nl === -1) {
        this.parts.push(Buffer.from(chunk.subarray(from)));
        this.held += chunk.length - from;
        return;
      }
      this.parts.push(chunk.subarray(from, nl));
      this.flush(false);
      from = nl + 1;
    }
  }

  /** The stream ended: a last line without a newline still counts. */
  end(): void {
    if (this.held) this.flush(false);
    this.skipping = false;
  }

  private flush(truncated: boolean): void {
    const line = Buffer.concat(this.parts).toString('utf8').replace(/\r$/, '');
    this.parts = [];
    this.held = 0;
    this.emit(truncated ? line + TRUNCATED : line);
  }
}
