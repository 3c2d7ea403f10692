import type { CommandModule } from 'yargs';
import { ioFor, out, type GlobalArgs } from './common.js';

interface StatusArgs extends GlobalArgs {
  names?: string[];
  json: boolean;
  probe: boolean;
  color?: boolean;
}

const colorOn = (argv: { color?: boolean }) => argv.color ?? (process.stdout.isTTY === true && !process.env.NO_COLOR);

export const statusCommand: CommandModule<GlobalArgs, StatusArgs> = {
  command: 'status [names..]',
  describe: 'is the way in working? every profile without a name; exit 0 ok, 20 degraded, 21 down',
  builder: (y) =>
    y
      .positional('names', { type: 'string', array: true })
      .option('json', { type: 'boolean', default: false, describe: 'the stable JSON (schema in the README)' })
      .option('probe', { type: 'boolean', default: false, describe: 'send an ARP/ND probe to each gateway (nothing else leaves)' })
      .option('color', { type: 'boolean', describe: 'force colours on or off (default: on a terminal, unless NO_COLOR)' }) as never,
  handler: async (argv) => {
    const { requireRoot } = await import('../ops.js');
    const { collect } = await import('../status/collect.js');
    const { summarize } = await import('../status/model.js');
    const { formatStatus } = await import('../status/format.js');
    requireRoot('oob status'); // reading a namespace (ip -n) needs CAP_SYS_ADMIN
    const { ExitCode } = await import('../errors.js');
    const report = summarize(await collect(ioFor(argv), argv.names, { probe: argv.probe }));
    out(argv.json ? JSON.stringify(report, null, 2) : formatStatus(report, colorOn(argv)).trimEnd());
    process.exitCode = report.health === 'ok' ? 0 : report.health === 'degraded' ? ExitCode.degraded : ExitCode.down;
  },
};

interface DoctorArgs extends GlobalArgs {
  name: string;
  probe: boolean;
  color?: boolean;
}

export const doctorCommand: CommandModule<GlobalArgs, DoctorArgs> = {
  command: 'doctor <name>',
  describe: 'run the troubleshooting checklist: PASS / WARN / FAIL, with the fix; exit non-zero on a FAIL',
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true })
      .option('probe', { type: 'boolean', default: false, describe: 'send an ARP/ND probe to the gateway first' })
      .option('color', { type: 'boolean' }) as never,
  handler: async (argv) => {
    const { requireRoot } = await import('../ops.js');
    const { collect } = await import('../status/collect.js');
    const { summarize } = await import('../status/model.js');
    const { doctor, formatChecks } = await import('../status/doctor.js');
    requireRoot('oob doctor');
    const { ExitCode } = await import('../errors.js');
    const raw = await collect(ioFor(argv), [argv.name], { probe: argv.probe });
    const st = summarize(raw).profiles[0]!;
    const checks = doctor(raw, raw.profiles[0]!, st);
    out(formatChecks(argv.name, checks, colorOn(argv)).trimEnd());
    const fails = checks.filter((c) => c.verdict === 'FAIL');
    process.exitCode = !fails.length ? 0 : st.health === 'down' ? ExitCode.down : ExitCode.degraded;
  },
};
