import { expect } from 'chai';
import { planReload } from '../../../src/supervise/reload.js';
import { def } from './fake-host.js';

describe('supervise/reload: what a SIGHUP changes', () => {
  it('stops the removed, restarts the changed, starts the new, retries a failed pre-start check, leaves the rest', () => {
    const running = [
      { def: def({ name: 'same' }), prestartFailed: false },
      { def: def({ name: 'changed' }), prestartFailed: false },
      { def: def({ name: 'gone' }), prestartFailed: false },
      { def: def({ name: 'checkfailed' }), prestartFailed: true },
    ];
    const next = [
      def({ name: 'same' }),
      def({ name: 'changed', exec: ['/bin/other'] }),
      def({ name: 'checkfailed' }),
      def({ name: 'new' }),
    ];
    const p = planReload(running, next);
    expect(p.stop).to.deep.equal(['gone']);
    expect(p.restart.map((d) => [d.name, d.exec])).to.deep.equal([['changed', ['/bin/other']]]);
    expect(p.start.map((d) => d.name)).to.deep.equal(['new']);
    expect(p.retry).to.deep.equal(['checkfailed']);
  });

  it('a changed pre-start list is a changed definition', () => {
    const p = planReload([{ def: def(), prestartFailed: true }], [def({ prestart: [['true']] })]);
    expect(p.restart).to.have.length(1);
    expect(p.retry).to.deep.equal([]);
  });
});
