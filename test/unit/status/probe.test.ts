// probeGateways against a simulated neighbour table: which commands run, what is reported, what is put back.
import { expect } from 'chai';
import type { Neighbour } from '../../../src/net/ipjson.js';
import type { RawProfile } from '../../../src/status/collect.js';
import { probeGateways } from '../../../src/status/probe.js';
import type { Io } from '../../../src/sys/io.js';
import { link, route, v4 } from '../helpers.js';

/** A namespace whose gateway entry turns into `then` when the table is read after a probe. */
function fake(before: Neighbour | undefined, then: 'REACHABLE' | 'FAILED' | 'PROBE') {
  let entry = before ? { ...before } : undefined;
  const calls: string[] = [];
  const io = {
    run: async (argv: string[]) => {
      const a = argv.slice(3).join(' ');
      calls.push(a);
      if (a === '-j neigh show')
        return {
          code: 0,
          stdout: JSON.stringify(
            entry
              ? [
                  {
                    dst: entry.dst,
                    dev: entry.dev,
                    ...(entry.lladdr ? { lladdr: entry.lladdr } : {}),
                    state: [entry.state],
                  },
                ]
              : [],
          ),
          stderr: '',
        };
      if (a.startsWith('neigh replace')) {
        const ll = /lladdr (\S+)/.exec(a)?.[1];
        const probing = / nud probe$| use$/.test(a);
        entry = {
          dst: '10.20.30.20',
          dev: 'ens19',
          state: probing ? 'PROBE' : a.endsWith('nud stale') ? 'STALE' : 'REACHABLE',
          ...(ll ? { lladdr: ll } : {}),
        };
        if (probing && then !== 'PROBE')
          entry = { ...entry, state: then, ...(then === 'REACHABLE' ? { lladdr: '52:54:00:00:00:20' } : {}) };
        if (then === 'FAILED' && probing) delete entry.lladdr;
      }
      if (a.startsWith('neigh del')) entry = undefined;
      return { code: 0, stdout: '', stderr: '' };
    },
  } as unknown as Io;
  const p = {
    name: 'mgmt',
    ns: {
      links: [link('ens19', { alias: 'oob:mgmt:ens19', addrs: [v4('10.20.30.1')] })],
      routes: [route('default', 'ens19', { gateway: '10.20.30.20' })],
      neigh: before ? [before] : [],
    },
  } as unknown as RawProfile;
  return { io, p, calls, entry: () => entry };
}

describe('status/probe: honest answers, the neighbour table left as found', () => {
  it('a PERMANENT entry is not touched at all: no command runs, it is reported as static', async () => {
    const f = fake({ dst: '10.20.30.20', dev: 'ens19', lladdr: '02:00:00:00:00:01', state: 'PERMANENT' }, 'REACHABLE');
    await probeGateways(f.io, [f.p]);
    expect(f.calls).to.deep.equal([]);
    expect(f.p.probes).to.deep.equal({ '10.20.30.20': 'static' });
  });
  it('a known entry is probed at its address; no answer: unanswered, and the entry is put back', async () => {
    const f = fake({ dst: '10.20.30.20', dev: 'ens19', lladdr: '02:00:00:00:00:01', state: 'STALE' }, 'FAILED');
    await probeGateways(f.io, [f.p]);
    expect(f.calls).to.deep.equal([
      'neigh replace 10.20.30.20 dev ens19 lladdr 02:00:00:00:00:01 nud probe',
      '-j neigh show',
      'neigh replace 10.20.30.20 dev ens19 lladdr 02:00:00:00:00:01 nud stale',
    ]);
    expect(f.p.probes).to.deep.equal({ '10.20.30.20': 'unanswered' });
    expect(f.entry()).to.deep.equal({ dst: '10.20.30.20', dev: 'ens19', state: 'STALE', lladdr: '02:00:00:00:00:01' });
  });
  it('an entry still in PROBE when the wait is over was not answered either', async () => {
    const f = fake(undefined, 'PROBE');
    await probeGateways(f.io, [f.p], { timeoutMs: 200 });
    expect(f.p.probes).to.deep.equal({ '10.20.30.20': 'unanswered' });
    expect(f.calls[0]).to.equal('neigh replace 10.20.30.20 dev ens19 use');
    expect(f.calls.at(-1)).to.equal('neigh del 10.20.30.20 dev ens19');
    expect(f.entry()).to.equal(undefined);
  });
  it('an unknown entry is resolved by the kernel (use); an answer is kept as the kernel learnt it', async () => {
    const f = fake(undefined, 'REACHABLE');
    await probeGateways(f.io, [f.p]);
    expect(f.calls).to.deep.equal(['neigh replace 10.20.30.20 dev ens19 use', '-j neigh show']);
    expect(f.p.probes).to.deep.equal({ '10.20.30.20': 'answered' });
  });
});
