// ready = tcp:PORT on real namespaces: ready means the service's own process (or a descendant of
// it) holds the listening socket, not that something in the namespace listens on the port.
import { expect } from 'chai';
import { netnsId, listeningPortsOf } from '../../src/sys/proc.js';
import { Service } from '../../src/supervise/service.js';
import { realHost } from '../../src/supervise/host.js';
import { sleep } from '../../src/sys/until.js';
import type { ServiceConfig } from '../../src/profile/types.js';
import { Lab, listen, must, waitFor } from './lab.js';

const PORT = 8022;

describe('integration: ready = tcp:PORT is the service listening, not the port taken (supervise/service, sys/proc)', function () {
  let lab: Lab;
  let ns = '';
  let svcs: Service[] = [];
  beforeEach(async () => {
    lab = await Lab.create();
    ns = await lab.addNs('ready');
    await must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    // another process of the namespace listens on the port: 127.0.0.1:PORT
    await listen(ns, '127.0.0.1', PORT, 'not the service');
  });
  afterEach(async () => {
    for (const s of svcs) await s.stop();
    svcs = [];
    await lab.destroy();
    expect(await lab.namespaces()).to.deep.equal([]);
  });

  /** A service in the namespace, ready = tcp:PORT, running `exec`. */
  async function service(exec: string[]): Promise<Service> {
    const def: ServiceConfig = {
      name: 'svc',
      exec,
      env: {},
      ready: { kind: 'tcp', port: PORT },
      restart: 'no',
      restartDelayMs: 50,
      restartDelayMaxMs: 100,
      stopSignal: 'SIGTERM',
      stopTimeoutMs: 2000,
      prestart: [],
    };
    const svc = new Service(def, {
      ns,
      nsId: (await netnsId(`/run/netns/${ns}`))!,
      env: { PATH: process.env.PATH },
      host: realHost(),
      log: () => {},
      output: () => {},
      changed: () => {},
    });
    svcs.push(svc);
    svc.start();
    return svc;
  }
  /** node listening on ADDR:PORT (a v6 address beside the foreign v4 listener, same port). */
  const listener = (addr: string) => `require('net').createServer(s=>s.end('svc')).listen(${PORT},'${addr}')`;

  it('a service that never listens is not ready while another process listens on its port in the namespace', async () => {
    const svc = await service(['/bin/sleep', '300']);
    const pid = await waitFor('the service to run in the namespace', async () => svc.state.pid);
    // what the old check read: the port listening in the namespace of the service's pid
    await waitFor('the namespace table to show the port from the service', async () =>
      (await listeningPortsOf(pid))?.includes(PORT),
    );
    await sleep(1000); // 50 polls of the readiness check
    expect(svc.state).to.include({ phase: 'starting', ready: false, pid });
  });

  it('the service listening on the port itself is ready (beside the other listener)', async () => {
    const svc = await service([process.execPath, '-e', listener('::1')]);
    await waitFor('the service to be ready', async () => svc.state.ready);
    expect(svc.state).to.include({ phase: 'running', ready: true });
  });

  it('a child of the service (a wrapper shell that forks) holding the socket makes it ready; the wrapper holds none', async () => {
    const svc = await service(['/bin/sh', '-c', `"${process.execPath}" -e "${listener('::1')}" & wait`]);
    await waitFor('the service to be ready', async () => svc.state.ready);
    expect(svc.state).to.include({ phase: 'running', ready: true });
  });
});
