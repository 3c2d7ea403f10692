// Shared helpers for the benchmarks: a throw-away host namespace, timing, statistics.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const id = randomBytes(2).toString('hex');
export const CLI = new URL('../dist/oob.cjs', import.meta.url).pathname; // the bundle, as the package installs it

export function run(argv, opts = {}) {
  const r = spawnSync(argv[0], argv.slice(1), {
    encoding: 'utf8',
    input: opts.input ?? '',
    env: opts.env ?? process.env,
  });
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r;
}

/** Time one command in ms (wall clock, including process start). */
export function timed(argv, opts = {}) {
  return timedCpu(argv, opts).ms;
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
/** The CPU time (user + system, ms) of this process's waited-for children so far: the commands and
 *  everything they waited for (oob's ip, a shell's ip). Clock ticks (10 ms), but of a running total:
 *  summed over a series, the rounding stays within one tick. */
const childCpuMs = () => {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return ((Number(f[13]) + Number(f[14])) * 1000) / CLK_TCK;
};

/** One command's wall time and CPU time in ms. CPU time barely moves with the machine's load, where
 *  wall time (with other test suites running) can double: both are printed. */
export function timedCpu(argv, opts = {}) {
  const c0 = childCpuMs();
  const t0 = process.hrtime.bigint();
  run(argv, opts);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ms, cpu: childCpuMs() - c0 };
}

export const sum = (xs) => xs.reduce((a, b) => a + b, 0);

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const fmt = (ms) => `${ms.toFixed(1)} ms`;

/** Run `fn` with a throw-away "host" namespace, always cleaned up. */
export async function withHostNs(name, fn) {
  run(['ip', 'netns', 'add', name]);
  try {
    return await fn(name);
  } finally {
    for (const ns of run(['ip', 'netns', 'list'], { allowFail: true })
      .stdout.split('\n')
      .map((l) => l.split(' ')[0])
      .filter((n) => n && n.includes(id))) {
      const pids = run(['ip', 'netns', 'pids', ns], { allowFail: true }).stdout.split(/\s+/).filter(Boolean);
      for (const p of pids)
        try {
          process.kill(Number(p), 'SIGKILL');
        } catch {
          /* already gone */
        }
      run(['ip', 'netns', 'del', ns], { allowFail: true });
    }
  }
}

export const inNs = (ns, argv) => ['nsenter', `--net=/run/netns/${ns}`, '--', ...argv];
