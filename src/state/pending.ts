// A change waiting for `oob confirm` (--confirm, issue 9), as on disk: STATE/confirm/NAME.json
// (state/layout.ts; persistent, so that the boot after a reboot inside the window finds it).
// Written by engine/confirm.ts; read there, by systemd/confirm.ts at boot and by status.
import { readFile } from 'node:fs/promises';
import { pendingFile } from './layout.js';
import { readVersionedJson } from '../sys/files.js';
import { sameProcess } from '../sys/proc.js';
import type { Paths } from '../sys/io.js';

export type ChangeKind = 'up' | 'down' | 'enable' | 'disable';
export const CHANGE_KINDS: readonly ChangeKind[] = ['up', 'down', 'enable', 'disable'];

/** A file as it was before an enable or disable: its content, or null when it did not exist. */
export interface SavedFile {
  path: string;
  content: string | null;
  mode: number;
}

/** What an enable or disable changes, as it was before the change: restored exactly by a revert. */
export interface UnitBefore {
  files: SavedFile[];
  enabled: boolean;
  active: boolean;
  /** The plane was up (its namespace existed), by the unit or by hand. */
  planeUp?: boolean;
}

/** The pending change, as on disk (STATE/confirm/NAME.json). */
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
  /** The boot the holder runs in (/proc/sys/kernel/random/boot_id): another boot's holder is gone. */
  bootId?: string;
  /** What the change did (the line up/down print). */
  did?: string;
  /** How it is reverted, as a command a person would type. */
  revert: string;
  /** enable/disable: the options the worker applies (the command line's, as data). */
  args?: Record<string, unknown>;
  /** enable/disable: the files and the unit as they were before, saved before anything changed. */
  before?: UnitBefore;
}

export interface Outcome {
  version: 1;
  profile: string;
  what: ChangeKind;
  result: 'confirmed' | 'reverted' | 'failed' | 'nothing';
  /** What the change did, when it did something (the line up/down print). */
  did?: string;
  /** The change's --json document (commands/json.ts), for a caller with --json. */
  doc?: unknown;
  /** Why it ended this way (one line). */
  why: string;
  details: string[];
  at: string;
}

/** The pending change as written by a worker; undefined when there is none or the file is not one (pendingGarbage). */
export async function readPending(io: { paths: Paths }, name: string): Promise<Pending | undefined> {
  const p = await readVersionedJson<Pending>(pendingFile(io.paths, name), 1);
  return validPending(p, name) ? p : undefined;
}

/** A pending file that is there but is not a pending change oob wrote (garbage, a half-written or foreign file): what is wrong. */
export async function pendingGarbage(io: { paths: Paths }, name: string): Promise<string | undefined> {
  const text = await readFile(pendingFile(io.paths, name), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  return validPending(v, name) ? undefined : 'not a pending change of this profile as oob writes it';
}

/** Whether a pending file read from disk has the shape a worker wrote: garbage is not acted on. */
export function validPending(p: unknown, name: string): p is Pending {
  const x = p as Partial<Pending> | null;
  return (
    typeof x === 'object' &&
    x !== null &&
    x.version === 1 &&
    x.profile === name &&
    CHANGE_KINDS.includes(x.what as ChangeKind) &&
    ['starting', 'applying', 'waiting', 'reverting'].includes(x.state as string) &&
    typeof x.since === 'string' &&
    typeof x.pid === 'number' &&
    typeof x.windowSeconds === 'number' &&
    typeof x.revert === 'string' &&
    (x.what === 'enable' || x.what === 'disable'
      ? typeof x.before === 'object' &&
        x.before !== null &&
        Array.isArray(x.before.files) &&
        x.before.files.every(
          (f) =>
            typeof f?.path === 'string' &&
            f.path.startsWith('/') &&
            (f.content === null || typeof f.content === 'string') &&
            typeof f.mode === 'number',
        )
      : true)
  );
}

/** This boot's id: a holder recorded under another boot is gone, whatever its pid is now. */
export const bootId = async (): Promise<string | undefined> =>
  (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => '')).trim() || undefined;

/** The pending change of a profile, and whether its worker (or starting caller) is still there. */
export async function pendingOf(
  io: { paths: Paths },
  name: string,
): Promise<(Pending & { alive: boolean }) | undefined> {
  const p = await readPending(io, name);
  if (!p) return undefined;
  const boot = await bootId();
  const sameBoot = !p.bootId || !boot || p.bootId === boot;
  return { ...p, alive: sameBoot && (await sameProcess(p.pid, p.pidStart)) };
}
