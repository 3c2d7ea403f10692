// Benchmark: `oob status --json` with 1 and with 50 profiles up, against a bare `node -e 0`,
// side by side in one run, inside a throw-away host namespace.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, fmt, id, inNs, median, run, sum, timedCpu, withHostNs } from './lib.mjs';

export async function benchStatus({ reps = 10, counts = [1, 50] } = {}) {
  const out = { reps, rows: [] };
  for (const n of counts) {
    const dir = mkdtempSync(join(tmpdir(), `oob-bench-${id}-`));
    const profiles = join(dir, 'profiles');
    mkdirSync(profiles, { mode: 0o700 });
    const env = { ...process.env, OOB_PROFILE_DIR: profiles, OOB_RUNTIME_DIR: join(dir, 'run') };
    delete env.SSH_CONNECTION;
    const names = Array.from({ length: n }, (_, i) => `b${id}q${i}`);
    try {
      await withHostNs(`oobb-${id}-q${n}`, (host) => {
        run(['ip', '-n', host, '-batch', '-'], {
          input: names.map((nm) => `link add ${nm}n type veth peer name ${nm}p\nlink set ${nm}p up\n`).join(''),
        });
        for (const nm of names)
          writeFileSync(
            join(profiles, `${nm}.ini`),
            `[interface]\nnic = ${nm}n\naddress = 10.20.30.1/24\ngateway = 10.20.30.20\n`,
            { mode: 0o600 },
          );
        run(inNs(host, [CLI, 'up', ...names]), { env });
        const status = () => timedCpu(inNs(host, [CLI, 'status', '--json']), { env, allowFail: true });
        const bare = () => timedCpu(inNs(host, ['node', '-e', '0']), { env: { ...env, NODE_EXTRA_CA_CERTS: '' } });
        status();
        const s = [],
          b = [];
        for (let i = 0; i < reps; i++) {
          b.push(bare());
          s.push(status());
        }
        out.rows.push({
          n,
          status: median(s.map((t) => t.ms)),
          bare: median(b.map((t) => t.ms)),
          statusCpu: sum(s.map((t) => t.cpu)) / reps,
          bareCpu: sum(b.map((t) => t.cpu)) / reps,
        });
        run(inNs(host, [CLI, 'down', ...names]), { env });
      });
    } finally {
      for (const nm of names) rmSync(`/etc/netns/${nm}`, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return out;
}

export function printStatus(r) {
  console.log(
    `\n## oob status --json against bare node -e 0 (wall: medians of ${r.reps}, CPU: means; profiles up without supervisors)`,
  );
  for (const row of r.rows) {
    const target = row.n === 1 ? 2.0 : 3.0;
    console.log(
      `${String(row.n).padStart(2)} profile(s): status ${fmt(row.status).padStart(9)}   node -e 0 ${fmt(row.bare).padStart(8)}   ratio ${(row.status / row.bare).toFixed(2)}  (target <= ${target.toFixed(1)});  CPU ${fmt(row.statusCpu)} / ${fmt(row.bareCpu)} = ${(row.statusCpu / row.bareCpu).toFixed(2)}`,
    );
  }
}
