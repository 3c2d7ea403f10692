// Benchmark: a service's crash -> its replacement listening again; the supervisor's RSS and CPU
// while idle with 3 services. Inside a throw-away host namespace.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, fmt, id, inNs, median, run, withHostNs } from './lib.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const PROBER = `
const net = require('net');
const tryOnce = () => new Promise((res) => { const s = net.connect(22, '10.20.30.1'); s.once('connect', () => { s.destroy(); res(true); }); s.once('error', () => res(false)); });
process.stdin.on('data', async () => {
  const t0 = process.hrtime.bigint();   // just before the bench sends SIGKILL (it waits for "armed")
  process.stdout.write('armed\\n');
  while (await tryOnce()) {}            // until the killed listener is gone
  while (!(await tryOnce())) {}         // until the new one listens
  process.stdout.write(String(Number(process.hrtime.bigint() - t0) / 1e6) + '\\n');
});`;

export async function benchSupervise({ reps = 10, idleSeconds = 60, delayMs = 100 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), `oob-bench-${id}-`));
  const profiles = join(dir, 'profiles');
  mkdirSync(profiles, { mode: 0o700 });
  const env = { ...process.env, OOB_PROFILE_DIR: profiles, OOB_RUNTIME_DIR: join(dir, 'run') };
  delete env.SSH_CONNECTION;
  delete env.NOTIFY_SOCKET;
  const ns = `b${id}s`;
  const privsep = !existsSync('/run/sshd');
  if (privsep) mkdirSync('/run/sshd', { mode: 0o755 });
  run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'hostkey')]);
  writeFileSync(
    join(profiles, `${ns}.ini`),
    `[interface]\nnic = ${ns}n\naddress = 10.20.30.1/24\n
[service.sshd]\nexec = /usr/sbin/sshd -D -e -f /dev/null -o HostKey=${join(dir, 'hostkey')} -o PidFile=none -o ListenAddress=10.20.30.1 -o Port=22\nready = tcp:22\nrestart-delay = ${delayMs}ms\nrestart-delay-max = ${delayMs}ms\n
[service.idle1]\nexec = /bin/sleep 100000\n[service.idle2]\nexec = /bin/sleep 100000\n`,
    { mode: 0o600 },
  );
  const out = {};
  try {
    await withHostNs(`oobb-${id}-s`, async (host) => {
      run(['ip', '-n', host, 'link', 'add', `${ns}n`, 'type', 'veth', 'peer', 'name', `${ns}p`]);
      const argv = inNs(host, [process.execPath, CLI, 'run', ns]);
      const sup = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'ignore', 'ignore'] });
      try {
        const stateFile = join(dir, 'run', ns, 'state.json');
        const state = () => {
          try {
            return JSON.parse(readFileSync(stateFile, 'utf8'));
          } catch {
            return undefined;
          }
        };
        for (let i = 0; i < 400 && !state()?.ready; i++) await sleep(25);
        if (!state()?.ready) throw new Error('the supervisor did not get ready');
        const prober = spawn('nsenter', [`--net=/run/netns/${ns}`, '--', process.execPath, '-e', PROBER], {
          stdio: ['pipe', 'pipe', 'inherit'],
        });
        const answers = [];
        let armed = 0;
        prober.stdout.on('data', (d) => {
          for (const l of String(d).trim().split('\n')) {
            if (l === 'armed') armed++;
            else answers.push(Number(l));
          }
        });
        const restart = [];
        for (let i = 0; i < reps; i++) {
          const pid = state().services.sshd.pid;
          const n = answers.length;
          prober.stdin.write('go\n');
          for (let j = 0; j < 2000 && armed === i; j++) await sleep(2);
          process.kill(pid, 'SIGKILL');
          for (let j = 0; j < 2000 && answers.length === n; j++) await sleep(5);
          if (answers.length === n) throw new Error(`kill ${i + 1}: sshd did not listen again within 10 s`);
          restart.push(answers[n]);
          for (let j = 0; j < 200 && !(state()?.ready && state().services.sshd.pid !== pid); j++) await sleep(10);
        }
        prober.kill('SIGKILL');
        const stat = () => {
          const f = readFileSync(`/proc/${sup.pid}/stat`, 'utf8').split(') ')[1].split(' ');
          const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${sup.pid}/status`, 'utf8'))[1]);
          return { ticks: Number(f[11]) + Number(f[12]), rssKb: rss };
        };
        const tck = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
        const a = stat();
        await sleep(idleSeconds * 1000);
        const b = stat();
        out.restartMs = median(restart);
        out.restartMax = Math.max(...restart);
        out.delayMs = delayMs;
        out.reps = reps;
        out.rssMb = b.rssKb / 1024;
        out.cpuPct = ((b.ticks - a.ticks) / tck / idleSeconds) * 100;
        out.cpuMs = ((b.ticks - a.ticks) / tck) * 1000;
        out.idleSeconds = idleSeconds;
      } finally {
        const closed = new Promise((r) => sup.on('close', r));
        sup.kill('SIGTERM');
        const t = setTimeout(() => sup.kill('SIGKILL'), 15000);
        await closed;
        clearTimeout(t);
      }
    });
  } finally {
    if (privsep) rmSync('/run/sshd', { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

export function printSupervise(r) {
  console.log(`\n## supervisor: crash -> listening again, and idle cost`);
  console.log(
    `sshd killed (SIGKILL) -> new sshd listening: median ${fmt(r.restartMs)}, max ${fmt(r.restartMax)} over ${r.reps} kills, with restart-delay ${r.delayMs} ms`,
  );
  console.log(`  beyond the configured delay: median ${fmt(r.restartMs - r.delayMs)} (target <= 100 ms)`);
  console.log(
    `supervisor with 3 services, idle ${r.idleSeconds} s: RSS ${r.rssMb.toFixed(1)} MB (target <= 40 MB), CPU ${r.cpuMs.toFixed(0)} ms = ${r.cpuPct.toFixed(3)} % of one core`,
  );
}
