// Benchmark: oob up + oob down against a shell script doing the same steps with one `ip` call
// each, side by side in one run, for 1 profile and for 20 (oob: all profiles in one call).
// Everything happens inside a throw-away host namespace.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, fmt, id, inNs, median, run, sum, timed, timedCpu, withHostNs } from './lib.mjs';

const SCRIPT_UP = `set -e
# usage: up NS NIC  (the seed's steps, one ip call each)
ns=$1 nic=$2
ip netns add $ns
ip link set dev $nic alias oob:$ns:$nic
ip link set dev $nic netns $ns
ip -n $ns link set dev lo up
ip -n $ns link set dev $nic up
ip -n $ns addr add 10.20.30.1/24 brd + dev $nic
ip -n $ns route replace default via 10.20.30.20 dev $nic
mkdir -p /etc/netns/$ns && printf 'nameserver 10.20.30.53\\n' > /etc/netns/$ns/resolv.conf
`;
const SCRIPT_DOWN = `set -e
ns=$1 nic=$2
for p in $(ip netns pids $ns); do kill $p; done
ip -n $ns link set dev $nic netns $$
ip link set dev $nic alias ""
ip link set dev $nic mtu 1500
ip link set dev $nic up
ip netns del $ns
rm -f /etc/netns/$ns/resolv.conf && rmdir /etc/netns/$ns
`;

export async function benchUpDown({ reps = 10, many = 20 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), `oob-bench-${id}-`));
  const profiles = join(dir, 'profiles');
  mkdirSync(profiles, { mode: 0o700 });
  const env = { ...process.env, OOB_PROFILE_DIR: profiles, OOB_RUNTIME_DIR: join(dir, 'run') };
  delete env.SSH_CONNECTION;
  const scriptUp = join(dir, 'up.sh'),
    scriptDown = join(dir, 'down.sh');
  writeFileSync(scriptUp, SCRIPT_UP);
  writeFileSync(scriptDown, SCRIPT_DOWN);
  const names = Array.from({ length: many }, (_, i) => ({ ns: `b${id}p${i}`, nic: `b${id}n${i}` }));
  const results = {};
  try {
    await withHostNs(`oobb-${id}-h`, (host) => {
      const input = names
        .map(({ nic }) => `link add ${nic} type veth peer name ${nic}p\nlink set ${nic}p up\n`)
        .join('');
      run(['ip', '-n', host, '-batch', '-'], { input });
      for (const { ns, nic } of names)
        writeFileSync(
          join(profiles, `${ns}.ini`),
          `[interface]\nnic = ${nic}\naddress = 10.20.30.1/24\ngateway = 10.20.30.20\n[dns]\nnameserver = 10.20.30.53\n`,
          { mode: 0o600 },
        );
      const oob = (args) => timed(inNs(host, [CLI, ...args]), { env });
      const sh = (file, ns, nic) => timed(inNs(host, ['bash', file, ns, nic]));
      // wall and CPU time of the two commands of one up + down
      const both = (a, b) => {
        const [x, y] = [timedCpu(...a), timedCpu(...b)];
        return { ms: x.ms + y.ms, cpu: x.cpu + y.cpu };
      };
      const oobBoth = (ns) => both([inNs(host, [CLI, 'up', ns]), { env }], [inNs(host, [CLI, 'down', ns]), { env }]);
      const shBoth = (ns, nic) =>
        both([inNs(host, ['bash', scriptUp, ns, nic])], [inNs(host, ['bash', scriptDown, ns, nic])]);
      const node0 = [],
        one = { oob: [], script: [], oobCpu: [], scriptCpu: [] },
        all = { oob: [], script: [] };
      const [{ ns, nic }] = names;
      oob(['up', ns]);
      oob(['down', ns]); // warm the page cache
      for (let i = 0; i < reps; i++) {
        node0.push(timed(['node', '-e', '0'], { env: { ...process.env, NODE_EXTRA_CA_CERTS: '' } }));
        const s = shBoth(ns, nic);
        const o = oobBoth(ns);
        one.script.push(s.ms);
        one.scriptCpu.push(s.cpu);
        one.oob.push(o.ms);
        one.oobCpu.push(o.cpu);
      }
      const manyReps = Math.max(2, Math.ceil(reps / 3));
      for (let i = 0; i < manyReps; i++) {
        let t = 0;
        for (const n of names) t += sh(scriptUp, n.ns, n.nic);
        for (const n of names) t += sh(scriptDown, n.ns, n.nic);
        all.script.push(t);
        all.oob.push(oob(['up', ...names.map((n) => n.ns)]) + oob(['down', ...names.map((n) => n.ns)]));
      }
      results.node0 = median(node0);
      results.one = {
        oob: median(one.oob),
        script: median(one.script),
        oobCpu: sum(one.oobCpu) / reps,
        scriptCpu: sum(one.scriptCpu) / reps,
        reps,
      };
      results.all = { oob: median(all.oob), script: median(all.script), reps: manyReps, n: many };
    });
  } finally {
    for (const { ns } of names) rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

export function printUpDown(r) {
  console.log(`\n## up + down: oob against a shell script with one ip call per step (wall: medians, CPU: means)`);
  console.log(`bare node -e 0 (reference):            ${fmt(r.node0)}`);
  console.log(
    `1 profile   script ${fmt(r.one.script).padStart(10)}   oob ${fmt(r.one.oob).padStart(10)}   oob/script ${(r.one.oob / r.one.script).toFixed(2)}  (target <= 1.5, ${r.one.reps} runs);  CPU ${fmt(r.one.scriptCpu)} / ${fmt(r.one.oobCpu)}: ${(r.one.oobCpu / r.one.scriptCpu).toFixed(2)}`,
  );
  console.log(
    `${r.all.n} profiles script ${fmt(r.all.script).padStart(10)}   oob ${fmt(r.all.oob).padStart(10)}   oob/script ${(r.all.oob / r.all.script).toFixed(2)}  (no target, ${r.all.reps} runs; oob up/down take all ${r.all.n} names in one call)`,
  );
}
