// npm run bench: every benchmark, side by side in one run, on this machine, then the table
// (figure, measured, target, met). Needs root. BENCH_REPS (default 10), BENCH_IDLE_SECONDS (default
// 60), BENCH_BOOT_REPS (default 3; 0 skips the boot benchmark) shorten a run.
import { cpus, loadavg } from 'node:os';
import { benchBoot, printBoot } from './boot.mjs';
import { median } from './lib.mjs';
import { benchStartup, printStartup } from './startup.mjs';
import { benchStatus, printStatus } from './status.mjs';
import { benchSupervise, printSupervise } from './supervise.mjs';
import { benchUpDown, printUpDown } from './updown.mjs';

if (process.geteuid() !== 0) {
  console.error('npm run bench needs root: it creates network namespaces (inside a throw-away host namespace)');
  process.exit(5);
}
delete process.env.NODE_EXTRA_CA_CERTS; // ~40 ms per node start; oob's shebang drops it too
const reps = Number(process.env.BENCH_REPS ?? 10);
const bootReps = Number(process.env.BENCH_BOOT_REPS ?? 3);
console.log(
  `# oob benchmarks — ${new Date().toISOString()} — node ${process.version}, ${cpus().length} cores, load ${loadavg()[0].toFixed(1)}`,
);
const startup = await benchStartup({ reps: reps * 2 });
printStartup(startup);
const updown = await benchUpDown({ reps });
printUpDown(updown);
const status = await benchStatus({ reps });
printStatus(status);
const sup = await benchSupervise({ reps, idleSeconds: Number(process.env.BENCH_IDLE_SECONDS ?? 60) });
printSupervise(sup);
const boot = bootReps > 0 ? await benchBoot({ reps: bootReps }) : { skipped: 'BENCH_BOOT_REPS=0' };
printBoot(boot);

const row = (name) => startup.rows.find((r) => r.name === name).ms;
const st = (n) => status.rows.find((r) => r.n === n);
const cpu = (name) => startup.rows.find((r) => r.name === name).cpu;
// [figure, measured (wall), target, the same ratio in CPU time (less moved by the machine's load)]
const table = [
  [
    'oob --version ÷ node -e 0',
    row('oob --version (bundle + code cache)') / row('node -e 0'),
    1.5,
    cpu('oob --version (bundle + code cache)') / cpu('node -e 0'),
  ],
  ['oob status --json, 1 profile up ÷ node -e 0', st(1).status / st(1).bare, 2.0, st(1).statusCpu / st(1).bareCpu],
  ['same, 50 profiles up', st(50).status / st(50).bare, 3.0, st(50).statusCpu / st(50).bareCpu],
  [
    'oob up + oob down, 1 profile ÷ shell script',
    updown.one.oob / updown.one.script,
    1.5,
    updown.one.oobCpu / updown.one.scriptCpu,
  ],
  [
    'boot → SSH banner in mgmt ÷ hand-written unit (nspawn)',
    boot.skipped ? NaN : median(boot.oob) / median(boot.hand),
    1.1,
  ],
  ['supervisor RSS, 3 services (MB)', sup.failed ? 'failed (see above)' : sup.rssMb, 40],
];
console.log(`\n## the issue's table (one run: ${new Date().toISOString()}, load ${loadavg()[0].toFixed(1)})`);
console.log(`| figure | measured | target | met | in CPU time |\n| --- | --- | --- | --- | --- |`);
for (const [name, v, target, c] of table)
  console.log(
    `| ${name} | ${typeof v === 'string' ? v : Number.isNaN(v) ? 'not run' : v.toFixed(2)} | ≤ ${target} | ${v <= target ? 'yes' : 'no'} | ${c === undefined ? '—' : c.toFixed(2)} |`,
  );
