// npm run bench: every benchmark, side by side in one run, on this machine. Needs root.
// BENCH_REPS (default 10) and BENCH_IDLE_SECONDS (default 60) shorten a run.
import { cpus } from 'node:os';
import { benchStartup, printStartup } from './startup.mjs';
import { benchStatus, printStatus } from './status.mjs';
import { benchSupervise, printSupervise } from './supervise.mjs';
import { benchUpDown, printUpDown } from './updown.mjs';

if (process.geteuid() !== 0) {
  console.error('npm run bench needs root: it creates network namespaces (inside a throw-away host namespace)');
  process.exit(5);
}
const reps = Number(process.env.BENCH_REPS ?? 10);
console.log(`# oob benchmarks — ${new Date().toISOString()} — node ${process.version}, ${cpus().length} cores`);
printStartup(await benchStartup({ reps: reps * 2 }));
printUpDown(await benchUpDown({ reps }));
printStatus(await benchStatus({ reps }));
printSupervise(await benchSupervise({ reps, idleSeconds: Number(process.env.BENCH_IDLE_SECONDS ?? 60) }));
