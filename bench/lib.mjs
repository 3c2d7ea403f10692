// Shared helpers for the benchmarks: a throw-away host namespace, timing, statistics.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

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
  const t0 = process.hrtime.bigint();
  run(argv, opts);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

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
