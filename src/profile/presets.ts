// Service presets: `preset = NAME` in a [service.X] section fills in exec, pidfile, readiness and
// the commands the daemon needs run before each start; any key written in the section wins.
// Pure data and expansion: no file system, no host.
import { servicePidFile } from '../state/layout.js';
import type { Ready } from './types.js';

export interface PresetContext {
  profile: string;
  service: string;
  runtimeDir: string;
}

/** What the section wrote itself: these win over the preset's. */
export interface PresetOverrides {
  exec?: string[];
  pidfile?: string;
  /** `args = ...`: appended to the command line (the preset's or the section's own exec). */
  args: string[];
}

export interface PresetValues {
  exec: string[];
  pidfile?: string;
  ready: Ready;
  prestart: string[][];
  /** The prestart commands need the namespace but not its network (ServiceConfig.prestartBeforeUp). */
  prestartBeforeUp?: boolean;
}

export interface Preset {
  name: string;
  /** One line for `oob presets`. */
  summary: string;
  /** The program it runs (`oob presets` and the demo say when it is missing). */
  program: string;
  expand(ctx: PresetContext, over: PresetOverrides): PresetValues;
}

export const SSHD = '/usr/sbin/sshd';

/** Debian's sshd refuses to start without its privilege separation directory; /run is empty at boot. */
export const SSHD_PRIVSEP = ['mkdir', '-p', '-m', '0755', '/run/sshd'];

const sshd: Preset = {
  name: 'sshd',
  summary:
    "OpenSSH's sshd with the host's keys and sshd_config, its own pidfile, listening on every address of the namespace",
  program: SSHD,
  expand(ctx, over) {
    const pidfile = over.pidfile ?? servicePidFile(ctx.runtimeDir, ctx.profile, ctx.service);
    // Inside the namespace every address is the management plane's: listen on all of them, whatever
    // ListenAddress lines the host's sshd_config has for its data side (those fail to bind here and
    // sshd goes on with the others). sshd forks; the pidfile names the listener.
    const exec = [
      ...(over.exec ?? [SSHD, '-o', `PidFile=${pidfile}`, '-o', 'ListenAddress=0.0.0.0', '-o', 'ListenAddress=::']),
      ...over.args,
    ];
    // the same command line with -t: a config error stops the copy with sshd's own line, no restart loop.
    // Neither needs the namespace's addresses (sshd -t binds nothing): they may run while they come up.
    return {
      exec,
      pidfile,
      ready: { kind: 'pidfile' },
      prestart: [SSHD_PRIVSEP, [exec[0]!, '-t', ...exec.slice(1)]],
      prestartBeforeUp: true,
    };
  },
};

export const PRESETS: Readonly<Record<string, Preset>> = { sshd };

export const presetNames = () => Object.keys(PRESETS);
