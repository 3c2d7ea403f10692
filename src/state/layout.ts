// Every path oob keeps or writes, in one place: no other module spells a file name of oob's.
// The roots (profile directory, runtime directory, /etc/netns, /run/netns) come from the Io's
// Paths; the names below them are decided here.
import * as path from 'node:path';
import type { Paths } from '../sys/io.js';

/** The roots: --profile-dir, else $OOB_PROFILE_DIR, else /etc/oob/profiles; $OOB_RUNTIME_DIR, else /run/oob; $OOB_STATE_DIR, else /var/lib/oob. */
export function resolvePaths(opts: { profileDir?: string | undefined }, env: NodeJS.ProcessEnv): Paths {
  return {
    profileDir: path.resolve(opts.profileDir ?? env.OOB_PROFILE_DIR ?? '/etc/oob/profiles'),
    runtimeDir: path.resolve(env.OOB_RUNTIME_DIR ?? DEFAULT_RUNTIME_DIR),
    stateDir: path.resolve(env.OOB_STATE_DIR ?? DEFAULT_STATE_DIR),
    netnsEtcDir: '/etc/netns',
    netnsRunDir: '/run/netns',
  };
}

/** The profile's file: PROFILE_DIR/NAME.ini (the file name is the profile and namespace name). */
export const profileFile = (profileDir: string, name: string) => path.join(profileDir, `${name}.ini`);
export const PROFILE_SUFFIX = '.ini';

/** What oob keeps at run time for one profile. */
export interface RuntimePaths {
  /** /run/oob/NAME: removed when empty. */
  dir: string;
  /** The NIC's host configuration, written before the move, read by down. */
  recordFile: string;
  /** The supervisor's state. */
  stateFile: string;
  /** The detached supervisor's output (oob start). */
  logFile: string;
  /** /etc/netns/NAME, which `ip netns exec` binds over /etc. */
  dnsDir: string;
  dnsFile: string;
  /** The namespace's mount point, /run/netns/NAME. */
  netnsFile: string;
}

export function runtimePaths(paths: Paths, name: string): RuntimePaths {
  const dir = path.join(paths.runtimeDir, name);
  return {
    dir,
    recordFile: path.join(dir, 'nic.json'),
    stateFile: path.join(dir, 'state.json'),
    logFile: path.join(dir, 'supervisor.log'),
    dnsDir: path.join(paths.netnsEtcDir, name),
    dnsFile: path.join(paths.netnsEtcDir, name, 'resolv.conf'),
    netnsFile: path.join(paths.netnsRunDir, name),
  };
}

/** What a lock serialises: the changes to one profile, or the one supervisor of a profile. */
export type LockKind = 'profile' | 'supervisor';
/** RUNTIME_DIR/locks: root's only (mode 0700), so that no other user can take or block a lock. */
export const lockDir = (runtimeDir: string) => path.join(runtimeDir, 'locks');
/**
 * The start of every lock socket of one lock, "KIND:NAME@" (each holder adds a unique tail). Profile
 * names have no ":" or "@", so no lock's name is a prefix of another's: profile "a.run" and the
 * supervisor of "a" are "profile:a.run@" and "supervisor:a@".
 */
export const lockPrefix = (kind: LockKind, name: string) => `${kind}:${name}@`;
/** A lock socket before it is published under its name (see engine/lock.ts). */
export const lockTempPrefix = '.new@';
/** Unix socket paths are at most 107 bytes (sun_path); longer ones are refused, never truncated. */
export const MAX_SOCKET_PATH = 107;

/** A service copy's own pidfile (the sshd preset's PidFile=): RUNTIME/NAME/SERVICE.pid, never the host's. */
export const servicePidFile = (runtimeDir: string, profile: string, service: string) =>
  path.join(runtimeDir, profile, `${service}.pid`);

/** The default runtime root, for pure code that is given none. */
export const DEFAULT_RUNTIME_DIR = '/run/oob';

/** The demo's own state (its temporary profile directory), so --cleanup finds what a demo left. */
export const demoStateFile = (paths: Paths) => path.join(paths.runtimeDir, 'demo.json');

/** node_exporter's textfile-collector directory as Debian's prometheus-node-exporter sets it. */
export const DEFAULT_TEXTFILE_DIR = '/var/lib/prometheus/node-exporter';
/** Where the supervisor writes its metrics: $OOB_TEXTFILE_DIR, else Debian's directory; "" turns it off. */
export const textfileDir = (env: NodeJS.ProcessEnv): string | undefined => {
  const d = env.OOB_TEXTFILE_DIR ?? DEFAULT_TEXTFILE_DIR;
  return d === '' ? undefined : path.resolve(d);
};
/** The profile's metrics file there (the collector reads *.prom, so the temp file of an atomic write is not read). */
export const textfileName = (dir: string, profile: string) => path.join(dir, `oob_${profile}.prom`);

// What `oob enable` writes into systemd's and the network managers' directories.
export const unitName = (profile: string) => `oob@${profile}.service`;
export const templatePath = '/etc/systemd/system/oob@.service';
/** The template the Debian package ships; where it exists, enable writes only drop-ins. */
export const packagedTemplatePath = '/usr/lib/systemd/system/oob@.service';
export const unitDir = '/etc/systemd/system';
export const dropInDirPattern = /^oob@.+\.service\.d$/;
export const dropInPath = (profile: string) => `/etc/systemd/system/oob@${profile}.service.d/10-oob.conf`;
export const wantsLink = (profile: string) => `/etc/systemd/system/multi-user.target.wants/oob@${profile}.service`;
export const nmRulePath = (profile: string) => `/etc/NetworkManager/conf.d/90-oob-${profile}.conf`;
export const networkdRulePath = (profile: string) => `/etc/systemd/network/05-oob-${profile}.network`;

// A change waiting for `oob confirm` (--confirm, issue 9). Beside, not inside, RUNTIME/NAME: down
// removes that directory, and the pending file must outlive the change it describes.
/** RUNTIME/confirm: the pending changes, the decisions for their workers, their outcomes. */
export const confirmDir = (runtimeDir: string) => path.join(runtimeDir, 'confirm');
/** The persistent root ($OOB_STATE_DIR, else /var/lib/oob): what must survive a reboot. */
export const DEFAULT_STATE_DIR = '/var/lib/oob';
export const stateDirOf = (paths: Paths) => paths.stateDir ?? DEFAULT_STATE_DIR;
/**
 * STATE/confirm: the pending changes. Persistent, not under RUNTIME: a reboot inside the window
 * must find an unconfirmed enable (and the files as they were before it) to revert it at boot.
 */
export const pendingDir = (paths: Paths) => path.join(stateDirOf(paths), 'confirm');
/** What is pending: what, since, deadline, how it is reverted, the worker, the files before (engine/confirm.ts). */
export const pendingFile = (paths: Paths, profile: string) => path.join(pendingDir(paths), `${profile}.json`);
/** Written by `oob confirm` / `oob revert`, read by the worker: "confirm" or "revert". */
export const decisionFile = (runtimeDir: string, profile: string) =>
  path.join(confirmDir(runtimeDir), `${profile}.decision`);
/** How the last confirmed change ended (confirmed, reverted, failed), for the caller and for confirm/revert. */
export const outcomeFile = (runtimeDir: string, profile: string) =>
  path.join(confirmDir(runtimeDir), `${profile}.outcome.json`);
/** The worker's output when it runs detached without systemd (under systemd: the journal of its unit). */
export const confirmLogFile = (runtimeDir: string, profile: string) =>
  path.join(confirmDir(runtimeDir), `${profile}.log`);
/** The transient unit a worker runs in under systemd (systemd-run --unit). */
export const confirmUnitName = (profile: string) => `oob-confirm-${profile}`;

/** The DHCP client's own files, RUNTIME/NAME/dhcp4.*: never the host client's (no collision, no shared socket). */
export const dhcpFiles = (runtimeDir: string, profile: string) => ({
  script: path.join(runtimeDir, profile, 'dhcp4.script'),
  pidFile: path.join(runtimeDir, profile, 'dhcp4.pid'),
  leaseFile: path.join(runtimeDir, profile, 'dhcp4.lease'),
});
/** The name of the implicit service that runs the DHCP client (a [service.dhcp4] section is refused). */
export const DHCP_SERVICE = 'dhcp4';
/** /etc/netns/NAME/resolv.conf for pure code that is given no Paths (the root is fixed in resolvePaths). */
export const netnsDnsFile = (profile: string) => path.join('/etc/netns', profile, 'resolv.conf');
