// Benchmark: boot -> SSH banner in the management LAN, in a container booted by systemd-nspawn:
// oob (the Debian package, `oob enable mgmt`) against a hand-written unit doing the seed's steps
// with `ip` and starting sshd in the namespace, same container, same units otherwise, side by side.
// Time from the start of systemd-nspawn to the first "SSH-" line read from 10.20.30.1:22 by a
// client in the LAN namespace. Then, inside the container, systemd-analyze critical-chain and blame
// for the oob boot: where the time goes. Uses the integration tests' Container (build/, from
// `tsc -p tsconfig.test.json`): a tmpfs overlay of /, removed at the end, also on failure.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fmt, median } from './lib.mjs';

const BUILD = new URL('../build/test/integration/container.js', import.meta.url).pathname;

// the client in the LAN: connect every 10 ms until a banner line comes; prints the ms since its start.
// The kernel's ARP would pace it otherwise: a SYN to 10.20.30.1 sent before host0 answers waits for
// the next ARP request, one second later by default (retrans_time_ms), which rounded the figure to
// the ARP timer. The prober sets lan0's ARP retry to 10 ms (lan0 is the LAN namespace's, the test's
// own; it comes with each boot) as soon as it is there.
const PROBER = `
const net = require('net'); const fs = require('fs'); const t0 = Number(process.argv[1]);
const neigh = '/proc/sys/net/ipv4/neigh/lan0/'; let tuned = false;
const tune = () => { try { fs.writeFileSync(neigh + 'retrans_time_ms', '10'); fs.writeFileSync(neigh + 'mcast_solicit', '100'); tuned = true; } catch {} };
const once = () => new Promise((res) => { const s = net.connect(22, '10.20.30.1');
  s.setTimeout(500, () => { s.destroy(); res(false); });
  s.once('data', (d) => { s.destroy(); res(String(d).startsWith('SSH-')); }); s.once('error', () => res(false)); });
(async () => { for (;;) { if (!tuned) tune(); if (tuned && await once()) { process.stdout.write(String(Date.now() - t0)); process.exit(0); }
  await new Promise((r) => setTimeout(r, 10)); } })();`;

const HAND_UNIT = `[Unit]
Description=the seed's steps by hand: host0 into namespace mgmt, addressed, sshd in it
DefaultDependencies=no
Before=network-pre.target shutdown.target
Wants=network-pre.target
After=local-fs.target systemd-tmpfiles-setup.service
Conflicts=shutdown.target

[Service]
Type=simple
ExecStartPre=/bin/sh -ec 'ip netns add mgmt; ip link set dev host0 netns mgmt; ip -n mgmt link set lo up; ip -n mgmt link set host0 up; ip -n mgmt addr add 10.20.30.1/24 dev host0; ip -n mgmt route replace default via 10.20.30.20; mkdir -p /run/sshd'
ExecStart=/usr/bin/nsenter --net=/run/netns/mgmt /usr/sbin/sshd -D -e -o ListenAddress=10.20.30.1
ExecStopPost=-/bin/sh -c 'ip -n mgmt link set dev host0 netns 1; ip netns del mgmt'

[Install]
WantedBy=multi-user.target
`;

/**
 * Boot (or reboot) the container, with the LAN client waiting from the start; ms to the banner.
 * A reboot powers off first: a client started before would get its banner from the old boot's sshd.
 */
async function bootToBanner(ct, first) {
  if (!first) await ct.poweroff();
  const t0 = Date.now();
  const p = spawn('ip', ['netns', 'exec', ct.lan, process.execPath, '-e', PROBER, String(t0)], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  const done = new Promise((r) => p.on('close', r));
  try {
    await ct.boot();
    const t = setTimeout(() => p.kill('SIGKILL'), 30_000);
    await done;
    clearTimeout(t);
  } finally {
    p.kill('SIGKILL');
  }
  if (!out) throw new Error('no SSH banner in the management LAN within 30 s of the boot');
  return Number(out) - (ct.bootStartedAt - t0); // from the start of systemd-nspawn
}

/**
 * Inside, from the journal of the boot: ms from systemd's "Starting UNIT" to sshd's first "Server
 * listening" line. The unit's own share of the boot, without the container's start around it.
 */
async function unitToListening(ct, unit) {
  const j = (await ct.exec(['journalctl', '-b', '-o', 'short-unix', '--no-pager', '-u', unit])).stdout.split('\n');
  const at = (re) => Number(j.find((l) => re.test(l))?.split(' ')[0]) * 1000;
  return at(/systemd\[1\]: Starting /) >= 0 ? at(/Server listening on/) - at(/systemd\[1\]: Starting /) : NaN;
}

export async function benchBoot({ reps = 3 } = {}) {
  if (!existsSync(BUILD)) throw new Error(`${BUILD} is missing: run tsc -p tsconfig.test.json first`);
  const { Container } = await import(BUILD);
  if (!Container.available()) return { skipped: 'systemd-nspawn is not installed (test/install-deps.sh)' };
  const ct = await Container.create();
  const out = { reps, oob: [], hand: [], inside: { oob: [], hand: [] } };
  try {
    await ct.boot();
    const units = ['ssh.service', 'ssh.socket', 'snmpd.service', 'prometheus-node-exporter.service'];
    await ct.exec(['systemctl', 'disable', '--now', ...units]);
    await ct.exec(['systemctl', 'mask', ...units]);
    const deb = await Container.buildPackage(ct.dir);
    const inst = await ct.installPackage(deb);
    if (inst.code !== 0) throw new Error(`dpkg -i in the container failed: ${inst.stderr}${inst.stdout}`);
    await ct.write('/etc/systemd/system/seed-mgmt.service', HAND_UNIT);
    const en = await ct.oob([
      'enable',
      'mgmt',
      '--nic',
      'host0',
      '--address',
      '10.20.30.1/24',
      '--gateway',
      '10.20.30.20',
    ]);
    if (en.code !== 0) throw new Error(`oob enable in the container failed: ${en.stderr}${en.stdout}`);
    // alternate: oob, hand, oob, hand... (the first reboot of each warms its caches and is not counted)
    const use = async (which) => {
      const [on, off] =
        which === 'oob' ? ['oob@mgmt.service', 'seed-mgmt.service'] : ['seed-mgmt.service', 'oob@mgmt.service'];
      await ct.mustExec(['systemctl', 'disable', off]);
      await ct.mustExec(['systemctl', 'enable', on]);
    };
    for (const which of ['oob', 'hand']) {
      await use(which);
      await bootToBanner(ct, false);
    }
    for (let i = 0; i < reps; i++)
      for (const which of ['oob', 'hand']) {
        await use(which);
        out[which].push(await bootToBanner(ct, false));
        out.inside[which].push(await unitToListening(ct, which === 'oob' ? 'oob@mgmt.service' : 'seed-mgmt.service'));
        if (which === 'oob' && i === reps - 1) {
          out.chain = (await ct.exec(['systemd-analyze', 'critical-chain', 'oob@mgmt.service'])).stdout.trim();
          out.blame = (await ct.exec(['systemd-analyze', 'blame'])).stdout.trim().split('\n').slice(0, 8).join('\n');
          out.time = (await ct.exec(['systemd-analyze', 'time'])).stdout.trim();
        }
      }
  } finally {
    await ct.destroy();
  }
  return out;
}

export function printBoot(r) {
  console.log(`\n## boot -> SSH banner in the management LAN (systemd-nspawn; medians of ${r.reps ?? 0} reboots each)`);
  if (r.skipped) return console.log(`skipped: ${r.skipped}`);
  const [o, h] = [median(r.oob), median(r.hand)];
  console.log(
    `hand-written unit (seed's ip steps + sshd) ${fmt(h).padStart(10)}   oob ${fmt(o).padStart(10)}   oob/hand ${(o / h).toFixed(2)}  (target <= 1.1)`,
  );
  console.log(
    `  all runs: oob ${r.oob.map((x) => x.toFixed(0)).join(', ')} ms; hand ${r.hand.map((x) => x.toFixed(0)).join(', ')} ms`,
  );
  console.log(
    `  inside, the unit's start -> sshd listening (journal): oob ${r.inside.oob.map((x) => x.toFixed(0)).join(', ')} ms; hand ${r.inside.hand.map((x) => x.toFixed(0)).join(', ')} ms; medians oob/hand ${fmt(median(r.inside.oob))} / ${fmt(median(r.inside.hand))}`,
  );
  console.log(`  inside, the last oob boot: ${r.time.split('\n')[0]}`);
  console.log(
    `  critical chain:\n${r.chain
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n')}`,
  );
  console.log(
    `  blame (top 8):\n${r.blame
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n')}`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`)
  printBoot(await benchBoot({ reps: Number(process.env.BENCH_BOOT_REPS ?? 3) }));
