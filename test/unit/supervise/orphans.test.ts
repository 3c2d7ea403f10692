import { expect } from 'chai';
import { reconcileOrphans, type OrphanDeps } from '../../../src/supervise/orphans.js';
import type { ServiceConfig } from '../../../src/profile/types.js';
import type { ServiceState, SupervisorState } from '../../../src/state/supervisor.js';
import { def, NS_ID } from './fake-host.js';

interface P {
  start: number;
  ns: string;
  argv: string[];
}

function deps(procs: Map<number, P>, pidfiles: Record<string, number> = {}) {
  const stopped: Array<[number, string]> = [];
  const logs: string[] = [];
  const d: OrphanDeps = {
    nsId: NS_ID,
    startTime: async (pid) => procs.get(pid)?.start,
    netnsOf: async (pid) => procs.get(pid)?.ns,
    cmdline: async (pid) => procs.get(pid)?.argv,
    readPidFile: async (f) => pidfiles[f],
    nsPids: async () => [...procs].filter(([, p]) => p.ns === NS_ID).map(([pid]) => pid),
    stop: async (pid, _s, def: ServiceConfig) => {
      stopped.push([pid, def.name]);
      procs.delete(pid);
    },
    log: (m) => logs.push(m),
  };
  return { d, stopped, logs };
}

const prev = (services: Record<string, Partial<ServiceState>>): SupervisorState => ({
  version: 1,
  profile: 'mgmt',
  supervisor: { pid: 1, startedAt: '' },
  network: 'up',
  ready: true,
  services: Object.fromEntries(
    Object.entries(services).map(([n, s]) => [n, { phase: 'running', ready: true, restarts: 0, ...s }]),
  ),
  updatedAt: '',
});

describe('supervise/orphans: what a crashed supervisor left running', () => {
  it('adopts a pidfile daemon with its restarts and start; stops the old child copy to start it afresh', async () => {
    const procs = new Map<number, P>([
      [500, { start: 50, ns: NS_ID, argv: ['/usr/sbin/sshd'] }],
      [600, { start: 60, ns: NS_ID, argv: ['/bin/sleep', '1000'] }],
    ]);
    const { d, stopped, logs } = deps(procs, { '/run/sshd.pid': 500 });
    const services = [
      def({ name: 'sshd', exec: ['/usr/sbin/sshd'], pidfile: '/run/sshd.pid' }),
      def({ name: 'sleeper', exec: ['/bin/sleep', '1000'] }),
    ];
    const adopted = await reconcileOrphans(
      services,
      prev({
        sshd: { pid: 500, pidStart: 50, followed: 'pidfile', restarts: 2, startedAt: 'T' },
        sleeper: { pid: 600, pidStart: 60, followed: 'child' },
      }),
      d,
    );
    expect([...adopted]).to.deep.equal([['sshd', { pid: 500, pidStart: 50, since: 'T', restarts: 2 }]]);
    expect(stopped).to.deep.equal([[600, 'sleeper']]);
    expect(logs).to.deep.equal([
      'adopted sshd (pid 500), left running by the previous supervisor',
      'stopping sleeper (pid 600), left running by the previous supervisor, to start it afresh',
    ]);
  });

  it('leaves a reused pid and a pid outside the namespace alone', async () => {
    const procs = new Map<number, P>([
      [500, { start: 99, ns: NS_ID, argv: ['/usr/bin/other'] }],
      [600, { start: 60, ns: 'net:[1]', argv: ['/bin/sleep', '1000'] }],
    ]);
    const { d, stopped } = deps(procs);
    const adopted = await reconcileOrphans(
      [def({ name: 'a', exec: ['/x'] }), def({ name: 'b', exec: ['/bin/sleep', '1000'] })],
      prev({ a: { pid: 500, pidStart: 50 }, b: { pid: 600, pidStart: 60 } }),
      d,
    );
    expect(adopted.size).to.equal(0);
    expect(stopped).to.deep.equal([]);
  });

  it('without a state file: a copy found in the namespace by its command line is stopped', async () => {
    const procs = new Map<number, P>([
      [700, { start: 70, ns: NS_ID, argv: ['/bin/sleep', '1000'] }],
      [701, { start: 71, ns: NS_ID, argv: ['/bin/bash'] }],
    ]);
    const { d, stopped, logs } = deps(procs);
    const adopted = await reconcileOrphans([def({ name: 'sleeper', exec: ['/bin/sleep', '1000'] })], undefined, d);
    expect(adopted.size).to.equal(0);
    expect(stopped).to.deep.equal([[700, 'sleeper']]);
    expect(logs).to.deep.equal(['stopping a leftover copy of sleeper (pid 700)']);
  });

  it('stops the copy of a service the profile no longer has (removed while no supervisor ran), with the default stop', async () => {
    const procs = new Map<number, P>([
      [600, { start: 60, ns: NS_ID, argv: ['/bin/sleep', '1000'] }],
      [700, { start: 70, ns: NS_ID, argv: ['/bin/sleep', '3000'] }],
      [800, { start: 80, ns: 'net:[1]', argv: ['/bin/sleep', '4000'] }],
    ]);
    const { d, stopped, logs } = deps(procs);
    const how: unknown[] = [];
    const stop = d.stop;
    d.stop = async (pid, start, def) => {
      how.push([def.stopSignal, def.stopTimeoutMs]);
      await stop(pid, start, def as ServiceConfig);
    };
    const adopted = await reconcileOrphans(
      [def({ name: 'sleeper', exec: ['/bin/sleep', '1000'] })],
      prev({
        sleeper: { pid: 600, pidStart: 60, followed: 'child' },
        gone: { pid: 700, pidStart: 70, followed: 'child' },
        // not in the namespace (the pid reused elsewhere): never touched
        other: { pid: 800, pidStart: 80, followed: 'child' },
      }),
      d,
    );
    expect(adopted.size).to.equal(0);
    expect(stopped).to.deep.equal([
      [600, 'sleeper'],
      [700, 'gone'],
    ]);
    expect(how[1]).to.deep.equal(['SIGTERM', 10_000]);
    expect(procs.has(800)).to.equal(true);
    expect(logs).to.include(
      'stopping gone (pid 700), left running by the previous supervisor: no longer in the profile',
    );
  });
});
