import { expect } from 'chai';
import { validPending, type Pending } from '../../../src/state/pending.js';

const good: Pending = {
  version: 1,
  profile: 'mgmt',
  what: 'enable',
  state: 'waiting',
  since: '2026-01-01T00:00:00.000Z',
  deadline: '2026-01-01T00:02:00.000Z',
  windowSeconds: 120,
  pid: 4242,
  revert: 'x',
  before: {
    files: [
      { path: '/etc/oob/profiles/mgmt.ini', content: '[interface]\n', mode: 0o600 },
      { path: '/etc/systemd/system/oob@mgmt.service.d/10-oob.conf', content: null, mode: 0o644 },
    ],
    enabled: false,
    active: false,
  },
};

describe('state/pending: only a pending change as oob writes it is acted on', () => {
  it('takes a record a worker wrote', () => {
    expect(validPending(good, 'mgmt')).to.equal(true);
    expect(validPending({ ...good, what: 'up', before: undefined }, 'mgmt')).to.equal(true);
  });
  it("refuses another profile's record, an unknown kind or state, and an enable without its saved files", () => {
    expect(validPending(good, 'other')).to.equal(false);
    expect(validPending({ ...good, what: 'rm -rf' }, 'mgmt')).to.equal(false);
    expect(validPending({ ...good, state: 'done' }, 'mgmt')).to.equal(false);
    expect(validPending({ ...good, before: undefined }, 'mgmt')).to.equal(false);
    expect(validPending({ ...good, pid: '1' }, 'mgmt')).to.equal(false);
    expect(validPending(null, 'mgmt')).to.equal(false);
    expect(validPending('garbage', 'mgmt')).to.equal(false);
  });
  it('refuses saved files with a relative path or a content that is neither text nor null (a revert would write them)', () => {
    const files = (f: unknown) => ({ ...good, before: { ...good.before!, files: [f] } });
    expect(validPending(files({ path: 'etc/passwd', content: 'x', mode: 0o644 }), 'mgmt')).to.equal(false);
    expect(validPending(files({ path: '/etc/x', content: 42, mode: 0o644 }), 'mgmt')).to.equal(false);
    expect(validPending(files({ path: '/etc/x', content: 'x' }), 'mgmt')).to.equal(false);
  });
});
