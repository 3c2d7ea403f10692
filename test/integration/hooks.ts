// The suite's last word (a mocha root hook, registered by test/run.mjs): nothing the run started
// may outlive it. It fails the run, after ending what it found, when
//  - a namespace named after one of the run's labs (or containers) is still there;
//  - a process of the run's labs is alive (lab/namespaces.ts processesOf: in a namespace named
//    after a lab, in a namespace deleted under it that still holds a lab's link, or with a lab's
//    temporary directory on its command line);
//  - a child of the test process is still alive.
// A process in some other namespace without a name that started during the run is only reported:
// other suites may run on this machine at the same time, and it cannot be told apart from theirs.
import { promises as fsp } from 'node:fs';
import { cmdline, netnsOf, startTime } from '../../src/sys/proc.js';
import { terminate } from '../../src/sys/terminate.js';
import { made, namedNamespaces, namesByInode, processesOf } from './lab/namespaces.js';
import { sh } from './lab/commands.js';

interface Proc {
  pid: number;
  ppid: number;
  state: string;
  start: number;
}

async function processes(): Promise<Proc[]> {
  const out: Proc[] = [];
  for (const d of await fsp.readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const stat = await fsp.readFile(`/proc/${d}/stat`, 'utf8').catch(() => '');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest.length < 20) continue;
    out.push({ pid: Number(d), state: rest[0]!, ppid: Number(rest[1]), start: Number(rest[19]) });
  }
  return out;
}

/** Namespace inode links that have a name, and the test process's own. */
async function knownNamespaces(): Promise<Set<string>> {
  const ids = new Set((await namesByInode()).keys());
  const own = await netnsOf(process.pid);
  if (own) ids.add(own);
  return ids;
}

const describeProc = async (pid: number) =>
  `pid ${pid} (${((await cmdline(pid)) ?? []).join(' ').slice(0, 160)}) in ${(await netnsOf(pid)) ?? '?'}`;

let suiteStart = 0;

export const mochaHooks = {
  async beforeAll(): Promise<void> {
    suiteStart = (await startTime(process.pid)) ?? 0;
  },

  async afterAll(): Promise<void> {
    const problems: string[] = [];

    const names = (await namedNamespaces()).filter((n) => [...made.ids].some((id) => n.includes(id)));
    for (const ns of names) problems.push(`namespace ${ns} is left`);

    const found = new Map<number, string>();
    for (const p of await processesOf([...made.ids], [...made.dirs])) found.set(p.pid, p.why);
    for (const p of await processes())
      if (p.ppid === process.pid && p.state !== 'Z' && !found.has(p.pid))
        found.set(p.pid, 'a child of the test process');
    // a process that ended meanwhile (a short command of the last test) is no leftover
    for (const pid of [...found.keys()]) if ((await startTime(pid)) === undefined) found.delete(pid);
    for (const [pid, why] of found) problems.push(`${await describeProc(pid)}: ${why}`);

    // only reported: processes that started during the run in a namespace that has no name
    const known = await knownNamespaces();
    for (const p of await processes()) {
      if (found.has(p.pid) || p.state === 'Z' || p.start < suiteStart) continue;
      const ns = await netnsOf(p.pid);
      if (ns && !known.has(ns))
        console.log(
          `    note: ${await describeProc(p.pid)} started during the run in a namespace without a name (not attributed to this run)`,
        );
    }

    if (!problems.length) return;
    // clean up what was found, so that a failed run leaves nothing either
    await terminate([...found.keys()], { signal: 'SIGKILL', graceMs: 0 });
    for (const ns of names) await sh(['ip', 'netns', 'del', ns]);
    throw new Error(`the suite left ${problems.length} thing(s) behind:\n  ${problems.join('\n  ')}`);
  },
};
