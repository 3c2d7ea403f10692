// The one table of exit codes. Only the entry point (cli.ts) turns an error into an exit code.
// Codes stay below 126: 126-255 belong to the shell and to systemd.
import { getSystemErrorMap } from 'node:util';

export const ExitCode = {
  ok: 0,
  internal: 1, // a bug in oob: the message says so
  usage: 2, // bad command line
  badProfile: 3, // the profile does not validate
  noProfile: 4, // no such profile
  permission: 5, // not root, or an unsafe profile file
  missingTool: 6, // ip (or another required program) is not installed
  precondition: 7, // the host is not in a state oob can act on (NIC missing, foreign namespace...)
  lockout: 8, // refused: moving this NIC would cut off the host or this SSH session
  busy: 9, // another oob holds the profile's lock
  rolledBack: 10, // a step failed; everything done was undone
  rollbackIncomplete: 11, // a step failed and the undo did not finish: the message says what is left
  supervisorNotReady: 12, // oob start: the supervisor exited before it was ready, or is not ready in time
  unsupported: 13, // the host cannot do this (e.g. systemd is not PID 1)
  system: 14, // the operating system refused or failed a call (EACCES, ENOSPC, EROFS, EIO...): not a bug in oob
  degraded: 20, // status: up, but not everything is as the profile says
  down: 21, // status: the management plane is down
} as const;

export type ExitCodeName = keyof typeof ExitCode;

/** An error a user can cause: one line of text and a fixed exit code; never a stack trace. */
export class OobError extends Error {
  readonly code: ExitCodeName;
  /** Further lines shown under the message (e.g. one line per profile error). */
  readonly details: string[];
  constructor(code: ExitCodeName, message: string, details: string[] = []) {
    super(message);
    this.name = 'OobError';
    this.code = code;
    this.details = details;
  }
  get exitCode(): number {
    return ExitCode[this.code];
  }
}

export const isOobError = (e: unknown): e is OobError => e instanceof OobError;

/** A failed system call as Node reports it: errno, its code (EACCES...), the call, maybe a path. */
export interface SystemError extends Error {
  errno: number;
  code: string;
  syscall: string;
  path?: string;
  dest?: string;
}

/** Decided by the error's typed fields (errno, code, syscall), never by its message. */
export function isSystemError(e: unknown): e is SystemError {
  const x = e as Partial<SystemError> | null;
  return (
    e instanceof Error && typeof x!.errno === 'number' && typeof x!.code === 'string' && typeof x!.syscall === 'string'
  );
}

/**
 * What an error means for the user: an OobError as it is; a system call the operating system
 * refused as one line naming the call, the path and the reason (exit `system`); undefined for
 * anything else, which is a bug in oob.
 */
export function asOobError(e: unknown): OobError | undefined {
  if (e instanceof OobError) return e;
  if (!isSystemError(e)) return undefined;
  const reason = getSystemErrorMap().get(e.errno)?.[1] ?? 'failed';
  const path = e.path !== undefined && !e.syscall.endsWith(` ${e.path}`) ? e.path : undefined; // "spawn /x" names it already
  const where = [e.syscall, path, e.dest && `-> ${e.dest}`].filter(Boolean).join(' ');
  return new OobError('system', `the operating system refused: ${where}: ${reason} (${e.code})`);
}

/** The exit code of an error: its own code, `system` for a refused system call, `internal` for a bug. */
export const exitCodeOf = (e: unknown): number => asOobError(e)?.exitCode ?? ExitCode.internal;

/**
 * Codes after which a restart by systemd cannot help: the units list them in RestartPreventExitStatus=.
 * `system` is not one: a full disk, a busy device or an I/O error can pass; neither is `internal`.
 */
export const NO_RESTART_CODES: readonly number[] = [
  ExitCode.usage,
  ExitCode.badProfile,
  ExitCode.noProfile,
  ExitCode.permission,
  ExitCode.missingTool,
  ExitCode.lockout,
];
