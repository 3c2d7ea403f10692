// When to start a service again after it ended: pure functions of (history, policy, now), so the
// doubling delay, its reset after a stable run and crash-loop detection are tested without a clock.
import type { RestartPolicy } from '../profile/types.js';

/** A run this long counts as stable: the next failure starts the delay from the beginning again. */
export const STABLE_MS = 10_000;
/** A crash loop: LOOP_EXITS exits within LOOP_WINDOW_MS. */
export const LOOP_WINDOW_MS = 60_000;
export const LOOP_EXITS = 5;

export interface BackoffPolicy {
  restart: RestartPolicy;
  restartDelayMs: number;
  restartDelayMaxMs: number;
}

export interface CrashLoop {
  exits: number;
  windowSec: number;
  since: string;
}

/** What the supervisor remembers of a service's past exits. */
export interface ExitHistory {
  /** Failures in a row (reset to 1 by a failure after a stable run). */
  failures: number;
  /** When it exited (ms), within the loop window. */
  exits: number[];
  crashLoop?: CrashLoop | undefined;
}

export const noHistory = (): ExitHistory => ({ failures: 0, exits: [] });

export type AfterExit =
  | { action: 'stop' }
  | { action: 'fail' }
  | { action: 'restart'; delayMs: number; history: ExitHistory; crashLoopBegan: boolean };

/**
 * The service ended (failure: a non-zero status or a signal) after running ranForMs:
 * stop it, mark it failed, or start it again after a delay that doubles with each quick failure.
 */
export function afterExit(
  h: ExitHistory,
  p: BackoffPolicy,
  e: { failure: boolean; ranForMs: number },
  now: number,
): AfterExit {
  if (p.restart === 'no' || (p.restart === 'on-failure' && !e.failure)) return { action: e.failure ? 'fail' : 'stop' };
  const stable = e.ranForMs >= STABLE_MS;
  const failures = stable ? 1 : h.failures + 1;
  const exits = [...h.exits.filter((t) => now - t < LOOP_WINDOW_MS), now];
  const delayMs = Math.min(p.restartDelayMs * 2 ** (failures - 1), p.restartDelayMaxMs);
  let crashLoop = h.crashLoop;
  if (exits.length >= LOOP_EXITS)
    crashLoop = {
      exits: exits.length,
      windowSec: LOOP_WINDOW_MS / 1000,
      since: h.crashLoop?.since ?? new Date(now).toISOString(),
    };
  else if (stable) crashLoop = undefined;
  return {
    action: 'restart',
    delayMs,
    history: { failures, exits, crashLoop },
    crashLoopBegan: !h.crashLoop && !!crashLoop,
  };
}
