// npm run bench: every benchmark, side by side in one run, on this machine. Needs root.
import { benchUpDown, printUpDown } from './updown.mjs';

if (process.geteuid() !== 0) {
  console.error('npm run bench needs root: it creates network namespaces (inside a throw-away host namespace)');
  process.exit(5);
}
const reps = Number(process.env.BENCH_REPS ?? 10);
console.log(`# oob benchmarks — ${new Date().toISOString()} — node ${process.version}, ${(await import('node:os')).cpus().length} cores`);
printUpDown(benchUpDown({ reps }));
