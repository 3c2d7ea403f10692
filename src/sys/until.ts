// The one poll loop: ask fn every intervalMs until it gives a value (anything but undefined or
// false), or the time is up. Every hand-written "while (Date.now() < deadline)" goes through here.

export interface UntilOptions {
  intervalMs: number;
  timeoutMs: number;
  /** The clock and the wait, injectable for tests. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The first value fn gives, or undefined when timeoutMs passed without one. fn runs at least once. */
export async function until<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  o: UntilOptions,
): Promise<T | undefined> {
  const now = o.now ?? Date.now;
  const wait = o.sleep ?? sleep;
  const deadline = now() + o.timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (now() >= deadline) return undefined;
    await wait(Math.max(0, Math.min(o.intervalMs, deadline - now())));
  }
}
