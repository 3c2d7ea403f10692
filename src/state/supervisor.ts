// The supervisor's state file, /run/oob/NAME/state.json: written atomically at every change, read
// by `oob status`, `oob start/stop` and a supervisor started after a crash.
import { readVersionedJson, writeFileAtomic } from '../sys/files.js';
import type { Paths } from '../sys/io.js';
import { runtimePaths } from './layout.js';

export type ServicePhase = 'starting' | 'running' | 'backoff' | 'stopping' | 'stopped' | 'failed';

export interface ServiceState {
  phase: ServicePhase;
  pid?: number;
  /** /proc start time of pid, to tell a reused pid from ours. */
  pidStart?: number;
  /** How the pid is followed: our child (waited for) or a daemon named in its pidfile (checked). */
  followed?: 'child' | 'pidfile';
  startedAt?: string;
  /** When it last became ready. */
  readyAt?: string;
  ready: boolean;
  restarts: number;
  lastExit?: { code: number | null; signal: string | null; at: string; reason: string };
  /** Set while the service keeps dying: how often, and when the next try is. */
  crashLoop?: { exits: number; windowSec: number; since: string };
  nextStartAt?: string;
  error?: string;
}

export interface SupervisorState {
  version: 1;
  profile: string;
  supervisor: { pid: number; pidStart?: number; startedAt: string };
  network: 'starting' | 'up' | 'stopping';
  ready: boolean;
  services: Record<string, ServiceState>;
  updatedAt: string;
}

export const readState = (paths: Paths, profile: string) =>
  readVersionedJson<SupervisorState>(runtimePaths(paths, profile).stateFile, 1);

export async function writeState(paths: Paths, s: SupervisorState): Promise<void> {
  await writeFileAtomic(
    runtimePaths(paths, s.profile).stateFile,
    JSON.stringify({ ...s, updatedAt: new Date().toISOString() }, null, 2) + '\n',
    0o644,
  );
}
