// Benchmark: start-up, side by side in one run: bare `node -e 0`, `oob --version` and
// `oob status --json` with no profile, for tsc's output (dist/cli.js, ~60 ES modules) and for the
// one bundled file: run bare (node dist/oob.bundle.cjs) and through its loader with the V8 code
// cache (dist/oob.cjs, what the package installs). NODE_EXTRA_CA_CERTS unset for all (oob's shebang drops it).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, id, median, sum, timedCpu } from './lib.mjs';

const DIST = new URL('../dist/', import.meta.url).pathname;
export const TSC = join(DIST, 'cli.js');
export const BUNDLE = join(DIST, 'oob.bundle.cjs');
export const LOADER = join(DIST, 'oob.cjs');

export async function benchStartup({ reps = 10 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), `oob-bench-${id}-`));
  const env = { ...process.env, OOB_PROFILE_DIR: join(dir, 'profiles'), OOB_RUNTIME_DIR: join(dir, 'run') };
  delete env.NODE_EXTRA_CA_CERTS;
  const cases = {
    'node -e 0': ['node', '-e', '0'],
    'oob --version (tsc, dist/cli.js)': [TSC, '--version'],
    'oob --version (bundle, no code cache)': ['node', BUNDLE, '--version'],
    'oob --version (bundle + code cache)': [LOADER, '--version'],
    'oob status --json, no profile (tsc)': [TSC, 'status', '--json'],
    'oob status --json, no profile (bundle)': ['node', BUNDLE, 'status', '--json'],
    'oob status --json, no profile (bundle + cache)': [LOADER, 'status', '--json'],
  };
  const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  const cpu = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  try {
    for (const argv of Object.values(cases)) timedCpu(argv, { env, allowFail: true }); // warm the page cache
    // interleaved, so that a slow moment of the machine hits every case alike
    for (let i = 0; i < reps; i++)
      for (const [k, argv] of Object.entries(cases)) {
        const t = timedCpu(argv, { env, allowFail: true });
        times[k].push(t.ms);
        cpu[k].push(t.cpu);
      }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    reps,
    rows: Object.entries(times).map(([name, t]) => ({ name, ms: median(t), cpu: sum(cpu[name]) / reps })),
  };
}

export function printStartup(r) {
  console.log(
    `\n## start-up against bare node -e 0 (wall: medians of ${r.reps}, interleaved; CPU: means; NODE_EXTRA_CA_CERTS unset)`,
  );
  const [{ ms: bare, cpu: bareCpu }] = r.rows;
  const target = (name) =>
    name.includes('--version') ? '  (target <= 1.5)' : name.includes('status') ? '  (1 profile up: target <= 2.0)' : '';
  for (const row of r.rows)
    console.log(
      `${row.name.padEnd(48)} ${fmt(row.ms).padStart(9)}   ratio ${(row.ms / bare).toFixed(2)}   CPU ${fmt(row.cpu).padStart(8)}  ratio ${(row.cpu / bareCpu).toFixed(2)}${row.name.startsWith('node') ? '' : target(row.name)}`,
    );
}

if (import.meta.url === `file://${process.argv[1]}`)
  printStartup(await benchStartup({ reps: Number(process.env.BENCH_REPS ?? 20) }));
