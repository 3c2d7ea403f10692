// A change waiting for `oob confirm` (--confirm, issue 9), as on disk: RUNTIME/confirm/NAME.json
// (state/layout.ts). Written by engine/confirm.ts; read there and by status.
import { pendingFile } from './layout.js';
import { readVersionedJson } from '../sys/files.js';
import { sameProcess } from '../sys/proc.js';
import type { Paths } from '../sys/io.js';

export type ChangeKind = 'up' | 'down';

/** The pending change, as on disk (RUNTIME/confirm/NAME.json). */
export interface Pending {
  version: 1;
  profile: string;
  what: ChangeKind;
  /** starting: the caller made the file, no worker yet; applying; waiting (for confirm); reverting. */
  state: 'starting' | 'applying' | 'waiting' | 'reverting';
  /** When the change was asked for. */
  since: string;
  /** When it is reverted unless confirmed (known once it is applied). */
  deadline?: string;
  windowSeconds: number;
  /** The process that holds the change: the caller while starting, then the worker. */
  pid: number;
  pidStart?: number;
  /** What the change did (the line up/down print). */
  did?: string;
  /** How it is reverted, as a command a person would type. */
  revert: string;
  /** The profile as it was before a down (the way back up), so an edit in the window does not change the revert. */
  profileFile?: string;
}

export interface Outcome {
  version: 1;
  profile: string;
  what: ChangeKind;
  result: 'confirmed' | 'reverted' | 'failed' | 'nothing';
  /** What the change did, when it did something (the line up/down print). */
  did?: string;
  /** Why it ended this way (one line). */
  why: string;
  details: string[];
  at: string;
}

export const readPending = (io: { paths: Paths }, name: string) =>
  readVersionedJson<Pending>(pendingFile(io.paths.runtimeDir, name), 1);

/** The pending change of a profile, and whether its worker (or starting caller) is still there. */
export async function pendingOf(
  io: { paths: Paths },
  name: string,
): Promise<(Pending & { alive: boolean }) | undefined> {
  const p = await readPending(io, name);
  if (!p) return undefined;
  return { ...p, alive: await sameProcess(p.pid, p.pidStart) };
}
