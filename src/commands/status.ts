import type { Argv } from 'yargs';
import { OobError } from '../errors.js';
import type { Io } from '../sys/io.js';
import { defineCommand, out, type GlobalArgs } from './common.js';

interface StatusArgs extends GlobalArgs {
  names?: string[];
  json: boolean;
  format?: 'text' | 'json' | 'prometheus';
  probe: boolean;
  color?: boolean;
}

const colorOn = (argv: { color?: boolean }) => argv.color ?? (process.stdout.isTTY === true && !process.env.NO_COLOR);

/** The flags status and doctor share. */
function lookFlags<T>(y: Argv<T>) {
  return y
    .option('probe', {
      type: 'boolean',
      default: false,
      describe: 'send an ARP/ND probe to each gateway first (nothing else leaves)',
    })
    .option('color', {
      type: 'boolean',
      describe: 'force colours on or off (default: on a terminal, unless NO_COLOR)',
    });
}

/** Why status and doctor need root (ip -n). */
const LOOK_NEEDS_ROOT = 'it reads the network namespaces and the runtime state';

/** What status and doctor both look at: the observations and the status computed from them. */
async function look(io: Io, argv: { probe: boolean }, names: string[] | undefined) {
  const { collect } = await import('../status/collect.js');
  const { summarize } = await import('../status/model.js');
  const raw = await collect(io, names, { probe: argv.probe });
  return { raw, report: summarize(raw) };
}

export const statusCommand = defineCommand<StatusArgs>({
  command: 'status [names..]',
  describe: 'is the way in working? every profile without a name; exit 0 ok, 20 degraded, 21 down',
  builder: (y) =>
    lookFlags(
      y
        .positional('names', { type: 'string', array: true })
        .option('json', { type: 'boolean', default: false, describe: 'the stable JSON (schema in the README)' })
        .option('format', {
          choices: ['text', 'json', 'prometheus'] as const,
          describe: 'text (the default), json (= --json), or prometheus (text exposition format, see the README)',
        }),
    ) as never,
  needsRoot: LOOK_NEEDS_ROOT,
  profileName: 'names',
  handler: async (argv, io) => {
    const { formatStatus } = await import('../status/format.js');
    const { ExitCode } = await import('../errors.js');
    if (argv.json && argv.format && argv.format !== 'json')
      throw new OobError('usage', `--json and --format ${argv.format} ask for two formats: give one`);
    const format = argv.format ?? (argv.json ? 'json' : 'text');
    const { report } = await look(io, argv, argv.names);
    if (format === 'prometheus') {
      // loaded only here: the text and JSON paths never pay for it
      const { formatPrometheus } = await import('../status/prometheus.js');
      const { version } = await import('../sys/self.js');
      process.stdout.write(formatPrometheus(report, { version: version() }));
    } else out(format === 'json' ? JSON.stringify(report, null, 2) : formatStatus(report, colorOn(argv)).trimEnd());
    return report.health === 'ok' ? 0 : report.health === 'degraded' ? ExitCode.degraded : ExitCode.down;
  },
});

interface DoctorArgs extends GlobalArgs {
  name: string;
  probe: boolean;
  color?: boolean;
}

export const doctorCommand = defineCommand<DoctorArgs>({
  command: 'doctor <name>',
  describe: 'run the troubleshooting checklist: PASS / WARN / FAIL, with the fix; exit non-zero on a FAIL',
  builder: (y) => lookFlags(y.positional('name', { type: 'string', demandOption: true })) as never,
  needsRoot: LOOK_NEEDS_ROOT,
  profileName: 'name',
  handler: async (argv, io) => {
    const { doctor, formatChecks } = await import('../status/doctor.js');
    const { ExitCode } = await import('../errors.js');
    const { raw, report } = await look(io, argv, [argv.name]);
    const st = report.profiles[0]!;
    const checks = doctor(raw, raw.profiles[0]!, st);
    out(formatChecks(argv.name, checks, colorOn(argv)).trimEnd());
    const fails = checks.filter((c) => c.verdict === 'FAIL');
    return !fails.length ? 0 : st.health === 'down' ? ExitCode.down : ExitCode.degraded;
  },
});
