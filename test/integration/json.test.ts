import { expect } from 'chai';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { enableInImage, ENS19, isRoot, Lab, makeImage } from './lab.js';

/** --json: one document on stdout whose "changed" tells configuration management whether a run did anything. */
describe('integration: --json of up, down, enable, disable (changed on the first run, not on the second)', function () {
  let lab: Lab;
  before(function () {
    if (!isRoot()) {
      console.log('    SKIPPED: the --json tests need root (they create network namespaces)');
      this.skip();
    }
  });
  beforeEach(async () => {
    lab = await Lab.create();
  });
  afterEach(async () => {
    await lab.destroy();
  });
  // the installed copy: enable writes units, which a clone under /tmp may not name
  const json = async (args: string[]) => {
    const r = await lab.oobInstalled(args);
    expect(r.code, r.stderr).to.equal(0);
    return JSON.parse(r.stdout) as Record<string, unknown> & { changed: boolean };
  };

  it('up --json: changed with its steps, then changed=false; down --json: changed, then changed=false', async () => {
    await lab.writeProfile(lab.seedProfile());
    const up = await json(['up', lab.profile, '--json']);
    expect(up.changed).to.equal(true);
    const p = (up.profiles as { name: string; changed: boolean; steps: string[]; addresses: string[] }[])[0]!;
    expect(p.name).to.equal(lab.profile);
    expect(p.changed).to.equal(true);
    expect(p.steps.length).to.be.greaterThan(0);
    expect(p.addresses).to.deep.equal(['10.20.30.1/24']);
    const again = await json(['up', lab.profile, '--json']);
    expect(again).to.deep.include({ changed: false });
    expect((again.profiles as { steps: string[] }[])[0]!.steps).to.deep.equal([]);
    const down = await json(['down', lab.profile, '--json']);
    expect(down.changed).to.equal(true);
    expect(await lab.namespaces()).to.not.include(lab.profile);
    expect(await json(['down', lab.profile, '--json'])).to.deep.include({ changed: false });
  });

  it('without --json the text stays as it was', async () => {
    await lab.writeProfile(lab.seedProfile());
    const r = await lab.oob(['up', lab.profile]);
    expect(r.stdout).to.match(new RegExp(`^${lab.profile}: up: `));
    expect((await lab.oob(['down', lab.profile])).stdout).to.match(
      new RegExp(`^${lab.profile}: down \\(\\d+ steps\\)\\n$`),
    );
  });

  it('a refused up --json prints no document: one line on stderr and the exit code', async () => {
    await lab.writeProfile(lab.seedProfile().replace('10.20.30.1/24', '10.20.30.1/99'));
    const r = await lab.oob(['up', lab.profile, '--json']);
    expect(r.code).to.equal(3);
    expect(r.stdout).to.equal('');
    expect(r.stderr.trim().split('\n')[0]).to.match(/^oob: .*address/);
  });

  it('enable/disable --root --json: changed, then changed=false; a changed gateway changes only the profile', async () => {
    const img = await makeImage(lab);
    const enable = (extra: string[] = []) => json(enableInImage(img, ...ENS19, '--json', ...extra));
    const first = await enable(['--gateway', '10.20.30.20']);
    expect(first).to.deep.include({ changed: true, name: 'mgmt', enabled: true, started: false, root: img });
    expect(first.files).to.include.members([
      path.join(img, 'etc/oob/profiles/mgmt.ini'),
      path.join(img, 'etc/systemd/system/oob@mgmt.service.d/10-oob.conf'),
    ]);
    expect(await enable(['--gateway', '10.20.30.20'])).to.deep.include({ changed: false, files: [], enabled: false });
    expect(await enable(['--gateway', '10.20.30.254'])).to.deep.include({
      changed: true,
      files: [path.join(img, 'etc/oob/profiles/mgmt.ini')],
      enabled: false,
    });
    const off = await json(['disable', 'mgmt', '--root', img, '--json']);
    expect(off).to.deep.include({ changed: true, disabled: true });
    expect(off.removed).to.include(path.join(img, 'etc/systemd/system/oob@mgmt.service.d/10-oob.conf'));
    expect(await json(['disable', 'mgmt', '--root', img, '--json'])).to.deep.equal({
      changed: false,
      name: 'mgmt',
      disabled: false,
      removed: [],
      stopped: false,
      root: img,
    });
  });

  it('check NAME --file PATH validates a file that is not in the profile directory (for ansible validate:)', async () => {
    const f = path.join(lab.dir, 'tmpXYZ');
    await fsp.writeFile(f, lab.seedProfile(), { mode: 0o600 });
    const ok = await lab.oob(['check', 'mgmt', '--file', f]);
    expect(ok.code, ok.stderr).to.equal(0);
    expect(ok.stdout).to.match(/tmpXYZ: ok \(nic /);
    await fsp.writeFile(f, lab.seedProfile().replace('gateway', 'gatewy'));
    const bad = await lab.oob(['check', 'mgmt', '--file', f]);
    expect(bad.code).to.equal(3);
    expect(bad.stderr.split('\n')[0]).to.match(/tmpXYZ.*gatewy/);
    expect((await lab.oob(['check', '--file', f])).code).to.equal(2);
    expect(await fsp.readdir(lab.profileDir)).to.deep.equal([]);
  });
});
