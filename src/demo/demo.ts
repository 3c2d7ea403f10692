// `oob demo`: the main job on a simulated NIC. A veth pair plays the spare NIC: one end in the
// host, the other in a "management LAN" namespace that holds the gateway. A second veth pair gives
// the host a "data LAN" with the same subnet and the same gateway address, as in the seed, so one
// address answers differently depending on the namespace asking.
import { existsSync, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stepCommand } from '../engine/apply.js';
import { OobError } from '../errors.js';
import { readFileOr, writeFileAtomic } from '../sys/files.js';
import type { Io } from '../sys/io.js';
import { demoStateFile, profileFile, runtimePaths } from '../state/layout.js';
import { loginPart, stopDemoSupervisor } from './login.js';
import { SSHD_PRIVSEP } from '../profile/presets.js';

const PRIVSEP_DIR = SSHD_PRIVSEP.at(-1)!;
import { overlaps, parseCidr, type Cidr } from '../net/addr.js';
import { listNamespaces, observeNs } from '../observe/observe.js';
import { downProfile, planProfileUp, upProfile } from '../engine/ops.js';
import { loadProfile } from '../profile/load.js';
import { startDetached } from '../sys/run.js';
import { listeningPorts, startTime } from '../sys/proc.js';
import { linkSubnets, runLinksPart } from './links.js';
import { terminate } from '../sys/terminate.js';
import { until } from '../sys/until.js';

export const DEMO = {
  profile: 'oobdemo',
  lan: 'oobdemo-lan',
  data: 'oobdemo-data',
  nic: 'oobdemo0',
  dataNic: 'oobdemo-d0',
  port: 7007,
} as const;
const CANDIDATE_SUBNETS = ['10.20.30', '198.18.30', '198.19.30'];

interface DemoState {
  profileDir: string;
  prefix: string;
  /** sshd's /run/sshd did not exist before: the demo's copy made it, the cleanup removes it. */
  madePrivsep?: boolean;
  /** The listener the links part starts in the host (its /proc start time: a reused pid is never killed). */
  hostListener?: { pid: number; start?: number };
}

const listener = (text: string, port: number) =>
  `require('net').createServer(s=>{s.end(${JSON.stringify(text)}+' (you came from '+s.remoteAddress.replace('::ffff:','')+')\\n')}).listen(${port},()=>{})`;
const client = (host: string, port: number) =>
  `const s=require('net').connect(${port},${JSON.stringify(host)});let b='';s.setTimeout(3000,()=>{console.log('(no answer)');process.exit(1)});s.on('data',d=>b+=d);s.on('end',()=>{process.stdout.write(b)});s.on('error',e=>{console.log('('+e.code+')');process.exit(1)})`;

async function capture(io: Io, argv: string[]): Promise<string> {
  const r = await io.run(argv, { allowFail: true });
  return (r.stdout + r.stderr).trimEnd();
}

async function waitListening(io: Io, ns: string | null, port: number): Promise<void> {
  const seen = await until(
    async () => {
      const cat = ['cat', '/proc/net/tcp', '/proc/net/tcp6'];
      const r = await io.run(ns ? ['ip', 'netns', 'exec', ns, ...cat] : cat, {
        allowFail: true,
      });
      if (r.code !== 0 && !r.stdout) return 'gone' as const; // the namespace is gone
      return listeningPorts(r.stdout).includes(port) ? ('listening' as const) : undefined;
    },
    { intervalMs: 50, timeoutMs: 5000 },
  );
  if (seen !== 'listening') throw new OobError('internal', `the demo's listener in ${ns ?? 'the host'} did not start`);
}

export async function demoCleanup(io: Io): Promise<string[]> {
  const done: string[] = [];
  const saved = await readFileOr(demoStateFile(io.paths), undefined);
  const st = saved ? (JSON.parse(saved) as DemoState) : undefined;
  // the supervisor (and its sshd copy) first: stopping it brings the network down
  const stoppedSupervisor = await stopDemoSupervisor(
    { ...io, paths: { ...io.paths, profileDir: st?.profileDir ?? io.paths.profileDir } },
    DEMO.profile,
  );
  if (stoppedSupervisor) done.push(`brought ${DEMO.profile} down`);
  const nss = await listNamespaces(io);
  if (!stoppedSupervisor && (nss.includes(DEMO.profile) || st)) {
    const r = await downProfile(
      { ...io, paths: { ...io.paths, profileDir: st?.profileDir ?? io.paths.profileDir } },
      DEMO.profile,
    ).catch((e: Error) => ({ steps: [], err: e.message }));
    if ('err' in r) io.log.warn(`demo cleanup: ${r.err}`);
    else if (r.steps.length) done.push(`brought ${DEMO.profile} down`);
  }
  if (st?.hostListener) await terminate([st.hostListener], { graceMs: 1000 });
  for (const ns of [DEMO.lan, DEMO.data]) {
    if (!nss.includes(ns)) continue;
    const pids = (await io.run(['ip', 'netns', 'pids', ns], { allowFail: true })).stdout
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
    await terminate(pids, { signal: 'SIGKILL', graceMs: 0 });
    await io.run(['ip', 'netns', 'del', ns], { allowFail: true });
    done.push(`deleted namespace ${ns}`);
  }
  const host = await observeNs(io, null);
  for (const l of [DEMO.nic, DEMO.dataNic]) {
    if (!host.links.some((x) => x.ifname === l)) continue;
    await io.run(['ip', 'link', 'del', 'dev', l], { allowFail: true });
    done.push(`deleted link ${l}`);
  }
  if (stoppedSupervisor) done.push('stopped its supervisor and sshd copy');
  await fsp.rm(runtimePaths(io.paths, DEMO.profile).dir, { recursive: true, force: true });
  if (st) await fsp.rm(st.profileDir, { recursive: true, force: true });
  if (st?.madePrivsep) await fsp.rmdir(PRIVSEP_DIR).catch(() => {}); // only if empty, and only if ours
  await fsp.rm(demoStateFile(io.paths), { force: true });
  await fsp.rmdir(io.paths.runtimeDir).catch(() => {});
  return done;
}

export async function runDemo(io: Io, opts: { keep: boolean }, print: (s: string) => void): Promise<void> {
  const nss = await listNamespaces(io);
  const host = await observeNs(io, null);
  if (
    [DEMO.profile, DEMO.lan, DEMO.data].some((n) => nss.includes(n)) ||
    host.links.some((l) => l.ifname === DEMO.nic || l.ifname === DEMO.dataNic)
  )
    throw new OobError('precondition', 'a previous demo is still set up: remove it with: oob demo --cleanup');

  // A subnet the host does not use, so the demo's data LAN cannot shadow a real route.
  const used = host.routes
    .filter((r) => r.dst !== 'default' && r.family === 4)
    .map((r) => parseCidr(r.dst.includes('/') ? r.dst : r.dst + '/32'))
    .filter((c): c is Cidr => typeof c !== 'string');
  // (and the links part's: the veth to the host and the management LAN's servers)
  const prefix = CANDIDATE_SUBNETS.find(
    (p) =>
      ![`${p}.0/24`, linkSubnets(p).veth, linkSubnets(p).servers].some((c) =>
        used.some((u) => overlaps(u, parseCidr(c) as Cidr)),
      ),
  );
  if (!prefix)
    throw new OobError(
      'precondition',
      `the host already routes ${CANDIDATE_SUBNETS.map((p) => p + '.0/24').join(', ')}: the demo needs one of them free`,
    );
  const me = `${prefix}.1`,
    gw = `${prefix}.20`;

  const profileDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'oob-demo-'));
  const state: DemoState = { profileDir, prefix, madePrivsep: !existsSync(PRIVSEP_DIR) };
  const saveState = () => writeFileAtomic(demoStateFile(io.paths), JSON.stringify(state) + '\n');
  await saveState();
  const dio: Io = { ...io, paths: { ...io.paths, profileDir } };
  let ok = false;
  // Ctrl-C or a kill: the step under way finishes (every step is bounded), the next one is not
  // taken, and the cleanup below removes everything, the supervisor included
  let interrupted: NodeJS.Signals | undefined;
  const say = (line: string) => {
    if (interrupted)
      throw new OobError('rolledBack', `interrupted by ${interrupted}: everything the demo set up was removed`);
    print(line);
  };
  const onSignal = (sig: NodeJS.Signals) => {
    interrupted = sig;
    print(`\n==> ${sig}: stopping after this step, then cleaning up`);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    say(
      `==> the stage: a veth pair plays the spare NIC: ${DEMO.nic} here, its peer in namespace ${DEMO.lan} (the management LAN, gateway ${gw})`,
    );
    say(
      `    and the host's data side gets the same subnet: ${DEMO.dataNic} = ${me}/24, with another ${gw} behind it (namespace ${DEMO.data})`,
    );
    await io.run(['ip', '-batch', '-'], {
      input:
        [
          `netns add ${DEMO.lan}`,
          `netns add ${DEMO.data}`,
          `link add ${DEMO.nic} type veth peer name lan0 netns ${DEMO.lan}`,
          `link add ${DEMO.dataNic} type veth peer name data0 netns ${DEMO.data}`,
          `addr add ${me}/24 dev ${DEMO.dataNic}`,
          `link set ${DEMO.dataNic} up`,
          `link set ${DEMO.nic} up`,
        ].join('\n') + '\n',
    });
    for (const [ns, dev] of [
      [DEMO.lan, 'lan0'],
      [DEMO.data, 'data0'],
    ] as const)
      await io.run(['ip', '-n', ns, '-batch', '-'], {
        input: `link set lo up\naddr add ${gw}/24 dev ${dev}\nlink set ${dev} up\n`,
      });
    // a server on the management LAN behind its gateway, for the second half
    await io.run(['ip', '-n', DEMO.lan, 'addr', 'add', `${linkSubnets(prefix).server}/32`, 'dev', 'lo']);
    startDetached([
      'ip',
      'netns',
      'exec',
      DEMO.lan,
      process.execPath,
      '-e',
      listener('hello from the MANAGEMENT LAN', DEMO.port),
    ]);
    startDetached([
      'ip',
      'netns',
      'exec',
      DEMO.data,
      process.execPath,
      '-e',
      listener('hello from the DATA LAN', DEMO.port),
    ]);
    await Promise.all([waitListening(io, DEMO.lan, DEMO.port), waitListening(io, DEMO.data, DEMO.port)]);

    const login = await loginPart.prepare(io, profileDir, say);
    const profileText = [
      `# demo profile, written to ${profileFile(profileDir, DEMO.profile)}`,
      '[interface]',
      `nic = ${DEMO.nic}`,
      `address = ${me}/24`,
      `gateway = ${gw}`,
      '',
      '[dns]',
      `nameserver = ${gw}`,
      'search = mgmt.example',
      '',
      ...(login ? login.profileLines : []),
    ].join('\n');
    await fsp.writeFile(profileFile(profileDir, DEMO.profile), profileText, { mode: 0o600 });
    say(`\n==> the profile\n${profileText.replace(/^/gm, '    ')}`);

    const profile = await loadProfile(profileDir, DEMO.profile);
    const plan = await planProfileUp(dio, profile, false);
    say(`\n==> oob plan ${DEMO.profile}: what up will do`);
    for (const s of plan.steps) say(`    ${stepCommand(s)}`);

    const t0 = performance.now();
    const r = await upProfile(dio, profile);
    say(`\n==> oob up ${DEMO.profile}: ${r.steps.length} steps in ${Math.round(performance.now() - t0)} ms`);
    say(`\n==> inside namespace ${DEMO.profile}`);
    say((await capture(io, ['ip', '-n', DEMO.profile, '-br', 'addr'])).replace(/^/gm, '    '));
    say((await capture(io, ['ip', '-n', DEMO.profile, 'route'])).replace(/^/gm, '    '));
    say(
      `    /etc/netns/${DEMO.profile}/resolv.conf: ${(await readFileOr(`/etc/netns/${DEMO.profile}/resolv.conf`, ''))
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .join('; ')}`,
    );

    say(`\n==> one address, two worlds: TCP to ${gw}:${DEMO.port}`);
    say(
      `    from namespace ${DEMO.profile}: ${await capture(io, ['ip', 'netns', 'exec', DEMO.profile, process.execPath, '-e', client(gw, DEMO.port)])}`,
    );
    say(`    from the host:        ${await capture(io, [process.execPath, '-e', client(gw, DEMO.port)])}`);

    const again = await upProfile(dio, profile);
    say(
      `\n==> oob up ${DEMO.profile} again: ${again.steps.length ? `${again.steps.length} steps (unexpected)` : 'nothing to do (idempotent)'}`,
    );
    if (login) await loginPart.run(dio, login, { ns: DEMO.profile, lan: DEMO.lan, address: me }, say);
    await runLinksPart(
      io,
      {
        ns: DEMO.profile,
        nic: DEMO.nic,
        prefix,
        me,
        lan: DEMO.lan,
        profileDir,
        port: DEMO.port,
        listener,
        client,
        capture: (argv) => capture(io, argv),
        waitListening: (port) => waitListening(io, null, port),
        keepPid: async (pid) => {
          state.hostListener = { pid, start: await startTime(pid) };
          await saveState();
        },
      },
      say,
    );
    ok = true;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (!opts.keep || !ok) {
      const done = await demoCleanup(io);
      print(`\n==> ${ok ? 'oob down and cleanup' : 'cleanup after the failure'}: ${done.join(', ') || 'nothing left'}`);
      const back = (await observeNs(io, null)).links.some((l) => l.ifname === DEMO.nic);
      if (ok)
        print(
          `    (${DEMO.nic} was returned to the host by oob down, then deleted with its veth peer${back ? ' — but it is still here!' : ''})`,
        );
    } else {
      print(`\n==> kept for exploring. Try:`);
      print(`    OOB_PROFILE_DIR=${profileDir} oob plan ${DEMO.profile}      # nothing to do`);
      print(`    oob exec ${DEMO.profile} -- ip addr`);
      print(`    oob exec ${DEMO.profile}                                   # a shell in the management plane`);
      print(`    OOB_PROFILE_DIR=${profileDir} oob status ${DEMO.profile}`);
      print(
        `    ip netns exec ${DEMO.lan} ssh -i ${profileDir}/client_key -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null root@${me}`,
      );
      print(`    OOB_PROFILE_DIR=${profileDir} oob down ${DEMO.profile}`);
      print(`    oob demo --cleanup                                  # removes everything`);
    }
  }
}
