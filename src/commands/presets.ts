import { existsSync } from 'node:fs';
import { defineCommand, out, type GlobalArgs } from './common.js';

export const presetsCommand = defineCommand<GlobalArgs>({
  command: 'presets',
  describe: 'list the service presets (preset = NAME in a [service.X] section) and what each fills in',
  handler: async () => {
    const { PRESETS } = await import('../profile/presets.js');
    const { DEFAULT_RUNTIME_DIR } = await import('../state/layout.js');
    for (const p of Object.values(PRESETS)) {
      const v = p.expand({ profile: 'PROFILE', service: p.name, runtimeDir: DEFAULT_RUNTIME_DIR }, { args: [] });
      out(`${p.name}: ${p.summary}${existsSync(p.program) ? '' : ` (${p.program} is not installed here)`}`);
      out(`  exec = ${v.exec.join(' ')}`);
      if (v.pidfile) out(`  pidfile = ${v.pidfile}`);
      out(`  ready = ${v.ready.kind === 'tcp' ? `tcp:${v.ready.port}` : v.ready.kind}`);
      for (const c of v.prestart) out(`  before each start: ${c.join(' ')}`);
    }
    out(
      'from = UNIT.service: a copy of an installed systemd service: its ExecStart (EnvironmentFile= and Environment= expanded), ExecStartPre, User, Group, RuntimeDirectory, PIDFile and Type;',
    );
    out(
      '  refused, with the setting named: Type=dbus/oneshot, socket activation, prefixes + ! @ -, specifiers other than %n %N %p %t %%, sandboxing and any other setting a copy cannot honour',
    );
    out(
      "Keys written in the section (exec, pidfile, ready, user, env...) win over the preset's or the unit's; args = appends arguments.",
    );
    return 0;
  },
});
