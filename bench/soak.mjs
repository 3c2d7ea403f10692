// The soak of issue 8: random SIGKILLs of oob during `up`, `down` and `run` inside a throw-away lab
// (a namespace playing the host, a veth end playing the NIC), the end state checked after each kill:
//   1. the NIC is never lost: right after the kill it is (by MAC) in the host or in the profile's namespace;
//   2. recovery converges: `oob down` restores the host exactly as before the first up (name, MAC, MTU,
//      alias, up state, addresses, routes), nothing stranded (no namespace, no /etc/netns entry,
//      no process of the profile's, no runtime files but the locks), and a second `oob down` says
//      nothing to do; or `oob up` ends with exactly the profile's state (address, default route).
// Run as root: `npm run soak` (SOAK_KILLS=200 by default; SOAK_SEED to replay; SOAK_CLI). Never touches this
// machine's links: every oob runs under nsenter --net=/run/netns/<lab host>.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// the shipped bundle; SOAK_CLI names another copy (a rebuild during a long soak then cannot change it)
const CLI = process.env.SOAK_CLI ?? new URL('../dist/oob.cjs', import.meta.url).pathname;
const KILLS = Number(process.env.SOAK_KILLS ?? 200);
let seed = Number(process.env.SOAK_SEED ?? Date.now() % 2147483647);
const SEED = seed;
const rand = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
const pick = (xs) => xs[Math.floor(rand() * xs.length)];

if (process.geteuid() !== 0) {
  console.error('soak: needs root (it builds network namespaces)');
  process.exit(2);
}

const id = randomBytes(3).toString('hex');
const host = `oobs-${id}-h`;
const router = `oobs-${id}-r`;
const profile = `os${id}`;
const nic = `os${id}n`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), `oobs-${id}-`));
const profileDir = path.join(dir, 'profiles');
const runtimeDir = path.join(dir, 'run');
fs.mkdirSync(profileDir, { mode: 0o700 });
const env = { ...process.env, OOB_PROFILE_DIR: profileDir, OOB_RUNTIME_DIR: runtimeDir };
delete env.SSH_CONNECTION;
delete env.NODE_EXTRA_CA_CERTS;

const run = (argv, input) =>
  execFileSync(argv[0], argv.slice(1), { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 60_000 });
const tryRun = (argv) => {
  try {
    return { code: 0, out: run(argv), err: '' };
  } catch (e) {
    return { code: e.status ?? -1, out: String(e.stdout ?? ''), err: String(e.stderr ?? '') };
  }
};
const oobArgv = (args) => ['/usr/bin/nsenter', `--net=/run/netns/${host}`, '--', process.execPath, CLI, ...args];
const oob = (args) => {
  try {
    return {
      code: 0,
      out: execFileSync(oobArgv(args)[0], oobArgv(args).slice(1), {
        env,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 90_000,
      }),
      err: '',
    };
  } catch (e) {
    return { code: e.status ?? -1, out: String(e.stdout ?? ''), err: String(e.stderr ?? '') };
  }
};

function linksIn(ns) {
  const r = tryRun(['ip', '-n', ns, '-j', '-d', 'addr', 'show']);
  return r.code === 0 ? JSON.parse(r.out) : null;
}
function routesIn(ns) {
  const r = tryRun(['ip', '-n', ns, '-j', 'route', 'show', 'table', 'all']);
  return r.code === 0 ? JSON.parse(r.out) : [];
}
const facts = (l) => ({
  name: l.ifname,
  mac: l.address,
  mtu: l.mtu,
  up: (l.flags ?? []).includes('UP'),
  alias: l.ifalias ?? null,
  addrs: (l.addr_info ?? [])
    .filter((a) => a.scope !== 'link')
    .map((a) => `${a.local}/${a.prefixlen}${a.noprefixroute ? ' noprefixroute' : ''}`)
    .sort(),
});
const routeFacts = (rs, dev) =>
  rs
    .filter((r) => r.dev === dev && (r.type ?? 'unicast') === 'unicast' && !String(r.dst).startsWith('fe80'))
    .map((r) => `${r.dst} via ${r.gateway ?? '-'} metric ${r.metric ?? '-'} table ${r.table ?? 'main'}`)
    .sort();
const hostView = () => {
  const l = (linksIn(host) ?? []).find((x) => x.address === mac);
  return l && { ...facts(l), routes: routeFacts(routesIn(host), l.ifname) };
};
const nsExists = () => fs.existsSync(`/run/netns/${profile}`);

// The lab.
run(['ip', 'netns', 'add', host]);
run(['ip', 'netns', 'add', router]);
run(['ip', '-n', host, '-batch', '-'], `link set lo up\nlink add ${nic} type veth peer name r0 netns ${router}\n`);
run(['ip', '-n', router, '-batch', '-'], 'link set lo up\naddr add 10.20.30.20/24 dev r0\nlink set r0 up\n');
run(
  ['ip', '-n', host, '-batch', '-'],
  `link set ${nic} mtu 1400\nlink set ${nic} alias admin-alias\naddr add 192.0.2.5/24 dev ${nic}\n` +
    `addr add 2001:db8:5::5/64 dev ${nic} nodad\nlink set ${nic} up\nroute add 198.51.100.0/24 via 192.0.2.1 dev ${nic}\n`,
);
const mac = JSON.parse(run(['ip', '-n', host, '-j', 'link', 'show', nic]))[0].address;
const baseline = JSON.stringify(hostView());
fs.writeFileSync(
  path.join(profileDir, `${profile}.ini`),
  `[interface]\nnic = ${nic}\naddress = 10.20.30.1/24\ngateway = 10.20.30.20\nmtu = 1450\n\n[dns]\nnameserver = 10.20.30.53\n\n` +
    `[service.idle]\nexec = /bin/sleep 100000\nrestart = always\n`,
  { mode: 0o600 },
);

const profileState = () => {
  const l = (linksIn(profile) ?? []).find((x) => x.address === mac);
  if (!l) return 'the NIC is not in the namespace';
  const f = facts(l);
  const want = { mtu: 1450, up: true, addrs: ['10.20.30.1/24'] };
  if (f.mtu !== want.mtu || !f.up || JSON.stringify(f.addrs) !== JSON.stringify(want.addrs))
    return `NIC in the namespace as ${JSON.stringify(f)}`;
  const def = routesIn(profile).find((r) => r.dst === 'default' && r.gateway === '10.20.30.20');
  return def ? '' : 'no default route via 10.20.30.20 in the namespace';
};
const processesInProfile = () => {
  const r = tryRun(['ip', 'netns', 'pids', profile]);
  return r.code === 0 ? r.out.trim().split('\n').filter(Boolean) : [];
};
const strayRuntime = () => {
  const d = path.join(runtimeDir, profile);
  return fs.existsSync(d) ? fs.readdirSync(d) : [];
};

const failures = [];
let checks = 0;
const fail = (i, what) => {
  failures.push(`kill ${i}: ${what}`);
  console.error(`FAIL kill ${i}: ${what}`);
};
const durations = { up: 400, down: 300, run: 1200 };

async function killAt(args, delayMs) {
  const [cmd, ...rest] = oobArgv(args);
  const child = spawn(cmd, rest, { env, stdio: 'ignore' });
  const exited = new Promise((res) => child.on('exit', (code, sig) => res({ code, sig })));
  const early = await Promise.race([exited, new Promise((res) => setTimeout(() => res(null), delayMs))]);
  if (!early) child.kill('SIGKILL');
  return { ...(await exited), early: early !== null };
}

const ops = [];
try {
  for (let i = 1; i <= KILLS; i++) {
    const op = pick(['up', 'down', 'run']);
    if (op === 'down' && !nsExists()) {
      const r = oob(['up', profile]);
      if (r.code !== 0) fail(i, `setup up exited ${r.code}: ${r.err.trim()}`);
    }
    const delay = Math.floor(rand() * durations[op]);
    const args = op === 'run' ? ['run', profile] : [op, profile];
    const k = await killAt(args, delay);
    ops.push(`${op}@${delay}${k.early ? '(done)' : ''}`);
    // A killed oob may leave an `ip` it started: give it a moment to finish on its own.
    await new Promise((r) => setTimeout(r, 50));

    // 1. never lost
    checks++;
    const inHost = (linksIn(host) ?? []).some((l) => l.address === mac);
    const inNs = (linksIn(profile) ?? []).some((l) => l.address === mac);
    if (!inHost && !inNs) {
      fail(i, `after ${op} killed at ${delay} ms the NIC (${mac}) is neither in the host nor in ${profile}`);
      break;
    }
    // 2. recovery
    const how = pick(['down', 'down', 'up']);
    checks++;
    if (how === 'down') {
      const r = oob(['down', profile]);
      const view = JSON.stringify(hostView());
      if (r.code !== 0) fail(i, `down after ${op}@${delay} exited ${r.code}: ${r.err.trim()}`);
      else if (view !== baseline) fail(i, `down after ${op}@${delay}: host ${view}, want ${baseline}`);
      else if (nsExists()) fail(i, `down after ${op}@${delay}: namespace ${profile} left`);
      else if (fs.existsSync(`/etc/netns/${profile}`)) fail(i, `down after ${op}@${delay}: /etc/netns/${profile} left`);
      else if (processesInProfile().length) fail(i, `down after ${op}@${delay}: processes left`);
      else if (strayRuntime().length)
        fail(i, `down after ${op}@${delay}: runtime files left: ${strayRuntime().join(' ')}`);
      checks++;
      const again = oob(['down', profile]);
      if (again.code !== 0 || JSON.stringify(hostView()) !== baseline)
        fail(i, `second down after ${op}@${delay} exited ${again.code}: ${again.err.trim()}`);
    } else {
      // `oob run` killed leaves its services behind: `up` converges the network, `down` ends them later
      const r = oob(['up', profile]);
      const st = profileState();
      if (r.code !== 0) fail(i, `up after ${op}@${delay} exited ${r.code}: ${r.err.trim()}`);
      else if (st) fail(i, `up after ${op}@${delay}: ${st}`);
    }
    if (i % 20 === 0) console.log(`soak: ${i} kills, ${checks} end states checked, ${failures.length} failures`);
  }
} finally {
  const r = oob(['down', profile]);
  if (r.code !== 0) console.error(`soak: final down exited ${r.code}: ${r.err.trim()}`);
  for (const p of processesInProfile()) tryRun(['kill', '-9', p]);
  for (const ns of [profile, host, router]) if (fs.existsSync(`/run/netns/${ns}`)) tryRun(['ip', 'netns', 'del', ns]);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(`/etc/netns/${profile}`, { recursive: true, force: true });
}
console.log(
  `soak: seed ${SEED}: ${ops.length} kills (${['up', 'down', 'run'].map((o) => `${o} ${ops.filter((x) => x.startsWith(o)).length}`).join(', ')}; ${ops.filter((x) => x.includes('(done)')).length} finished before the kill), ${checks} end states checked, ${failures.length} failures`,
);
for (const f of failures) console.log(`  ${f}`);
process.exit(failures.length ? 1 : 0);
