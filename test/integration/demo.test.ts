import { expect } from 'chai';
import { isRoot, Lab } from './lab.js';

describe('integration: oob demo (inside a throw-away host namespace)', function () {
  let lab: Lab;
  before(async function () {
    if (!isRoot()) {
      console.log('    SKIPPED: oob demo needs root');
      this.skip();
    }
    lab = await Lab.create();
  });
  after(async () => {
    await lab?.oob(['demo', '--cleanup']);
    await lab?.destroy();
  });

  it('shows the same address answering from two LANs, is idempotent, and removes everything', async () => {
    const r = await lab.oob(['demo']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/from namespace oobdemo: hello from the MANAGEMENT LAN/);
    expect(r.stdout).to.match(/from the host: +hello from the DATA LAN/);
    expect(r.stdout).to.match(/oob up oobdemo again: nothing to do \(idempotent\)/);
    expect(r.stdout).to.match(/ip link set dev oobdemo0 netns oobdemo/);
    const { stdout } = await lab.oob(['demo', '--cleanup']);
    expect(stdout.trim()).to.equal('no demo to remove');
    expect((await import('node:fs')).existsSync('/run/netns/oobdemo')).to.equal(false);
  });

  it('--keep leaves it for exploring, and --cleanup removes it later', async () => {
    const r = await lab.oob(['demo', '--keep']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/kept for exploring/);
    expect((await import('node:fs')).existsSync('/run/netns/oobdemo')).to.equal(true);
    const c = await lab.oob(['demo', '--cleanup']);
    expect(c.code, c.stderr).to.equal(0);
    expect(c.stdout).to.match(/demo removed: brought oobdemo down, deleted namespace oobdemo-lan, deleted namespace oobdemo-data/);
    expect((await import('node:fs')).existsSync('/run/netns/oobdemo')).to.equal(false);
  });
});
