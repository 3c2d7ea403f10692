// The one table of exit codes. Only the entry point (cli.ts) turns an error into an exit code.
// Codes stay below 126: 126-255 belong to the shell and to systemd.

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
  serviceGaveUp: 12, // a supervised service cannot be kept running
  unsupported: 13, // the host cannot do this (e.g. systemd is not PID 1)
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

/** Codes after which a restart by systemd cannot help: the units list them in RestartPreventExitStatus=. */
export const NO_RESTART_CODES: readonly number[] = [
  ExitCode.usage,
  ExitCode.badProfile,
  ExitCode.noProfile,
  ExitCode.permission,
  ExitCode.missingTool,
  ExitCode.lockout,
];
