import { expect } from 'chai';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { enableInImage, ENS19, isRoot, Lab, makeImage, sh } from './lab.js';

// Where the unit's ExecStart= points (issue 14, 3): never into the place oob happened to be built.
const DIST = new URL('../../../dist/', import.meta.url).pathname;

describe('integration: enable and where oob is installed', function () {
  let lab: Lab;
  let img: string;
  before(function () {
    if (!isRoot()) this.skip();
  });
  beforeEach(async () => {
    lab = await Lab.create();
    img = await makeImage(lab);
  });
  afterEach(async () => {
    await lab.destroy();
  });
  const exists = (p: string) =>
    fsp.stat(path.join(img, p)).then(
      () => true,
      () => false,
    );
  /** oob run from a copy of the bundle in the lab's temporary directory. */
  async function tmpCopy(): Promise<string> {
    const dir = path.join(lab.dir, 'clone', 'dist');
    await fsp.mkdir(dir, { recursive: true });
    for (const f of ['oob.cjs', 'oob.bundle.cjs']) await fsp.copyFile(path.join(DIST, f), path.join(dir, f));
    await fsp.chmod(path.join(dir, 'oob.cjs'), 0o755);
    return path.join(dir, 'oob.cjs');
  }
  const enableArgs = () => enableInImage(img, ...ENS19);

  it('refuses (exit 7) to write a unit that runs oob from a temporary directory, writing nothing', async () => {
    const oob = await tmpCopy();
    const r = await sh([oob, ...enableArgs()], { env: lab.env({ OOB_CODE_CACHE_DIR: path.join(lab.dir, 'cache') }) });
    expect(r.code, r.stderr).to.equal(7);
    expect(r.stderr.split('\n')[0]).to.equal(
      `oob: refusing to write a unit that runs ${oob}: ${oob} is under /tmp, which is temporary or one user's, and every boot would depend on it`,
    );
    expect(r.stderr).to.match(/nothing was written/);
    expect(await exists('etc/oob/profiles/mgmt.ini')).to.equal(false);
    expect(await exists('etc/systemd/system')).to.equal(false);
  });

  it("with the package's template in /usr/lib/systemd/system: only the drop-in, the unit runs /usr/bin/oob, from wherever enable ran", async () => {
    const tpl = (await fsp.readFile(new URL('../../../units/oob@.service', import.meta.url), 'utf8')).replace(
      '@NO_RESTART@',
      '2 3',
    );
    await fsp.mkdir(path.join(img, 'usr/lib/systemd/system'), { recursive: true });
    await fsp.writeFile(path.join(img, 'usr/lib/systemd/system/oob@.service'), tpl);
    const r = await sh([await tmpCopy(), ...enableArgs()], {
      env: lab.env({ OOB_CODE_CACHE_DIR: path.join(lab.dir, 'cache') }),
    });
    expect(r.code, r.stderr).to.equal(0);
    expect(await exists('etc/systemd/system/oob@.service'), 'a copy of the template was written').to.equal(false);
    expect(await exists('etc/systemd/system/oob@mgmt.service.d/10-oob.conf')).to.equal(true);
    expect(await fsp.readlink(path.join(img, 'etc/systemd/system/multi-user.target.wants/oob@mgmt.service'))).to.equal(
      '/usr/lib/systemd/system/oob@.service',
    );
    expect(await fsp.readFile(path.join(img, 'usr/lib/systemd/system/oob@.service'), 'utf8')).to.equal(tpl);
    expect(tpl).to.match(/^ExecStart=\/usr\/bin\/oob run %i$/m);
    const d = await sh([await tmpCopy(), 'disable', 'mgmt', '--root', img], { env: lab.env() });
    expect(d.code, d.stderr).to.equal(0);
    expect(await exists('etc/systemd/system/oob@mgmt.service.d')).to.equal(false);
    expect(await exists('usr/lib/systemd/system/oob@.service'), "disable removed the package's template").to.equal(
      true,
    );
  });
});
