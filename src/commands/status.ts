import type { Argv, CommandModule } from 'yargs';
import { ioFor, out, type GlobalArgs } from './common.js';

interface StatusArgs extends GlobalArgs {
  names?: string[];
  json: boolean;
  probe: boolean;
  color?: boolean;
}

const colorOn = (argv: { color?: boolean }) => argv.color ?? (process.stdout.isTTY === true && !process.env.NO_COLOR);

/** The flags status and doctor share. */
function lookFlags<T>(y: Argv<T>) {
  return y
    .option('probe', { type: 'boolean', default: false, describe: 'send an ARP/ND probe to each gateway first (nothing else leaves)' })
    .option('color', { type: 'boolean', describe: 'force colours on or off (default: on a terminal, unless NO_COLOR)' });
}

/** What status and doctor both look at: the observations and the status computed from them. Needs root (ip -n). */
async function look(argv: GlobalArgs & { probe: boolean }, what: string, names: string[] | undefined) {
  const { requireRoot } = await import('../engine/ops.js');
  const { collect } = await import('../status/collect.js');
  const { summarize } = await import('../status/model.js');
  requireRoot(what, 'it reads the network namespaces and the runtime state');
  const raw = await collect(ioFor(argv), names, { probe: argv.probe });
  return { raw, report: summarize(raw) };
}

export const statusCommand: CommandModule<GlobalArgs, StatusArgs> = {
  command: 'status [names..]',
  describe: 'is the way in working? every profile without a name; exit 0 ok, 20 degraded, 21 down',
  builder: (y) => lookFlags(y.positional('names', { type: 'string', array: true }).option('json', { type: 'boolean', default: false, describe: 'the stable JSON (schema in the README)' })) as never,
  handler: async (argv) => {
    const { formatStatus } = await import('../status/format.js');
    const { ExitCode } = await import('../errors.js');
    const { report } = await look(argv, 'oob status', argv.names);
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
  builder: (y) => lookFlags(y.positional('name', { type: 'string', demandOption: true })) as never,
  handler: async (argv) => {
    const { doctor, formatChecks } = await import('../status/doctor.js');
    const { ExitCode } = await import('../errors.js');
    const { raw, report } = await look(argv, 'oob doctor', [argv.name]);
    const st = report.profiles[0]!;
    const checks = doctor(raw, raw.profiles[0]!, st);
    out(formatChecks(argv.name, checks, colorOn(argv)).trimEnd());
    const fails = checks.filter((c) => c.verdict === 'FAIL');
    process.exitCode = !fails.length ? 0 : st.health === 'down' ? ExitCode.down : ExitCode.degraded;
  },
};
