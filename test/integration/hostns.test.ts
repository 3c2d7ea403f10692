// oob typed in a session that came in through the management plane (inside the profile's
// namespace) works on the host, as from the host's side: it runs itself again in the host's
// namespaces (src/sys/hostns.ts). Before, it took the namespace for the host.
import { expect } from 'chai';
import { CLI, isRoot, Lab, sh } from './lab.js';

describe('integration: oob run from inside a management plane works on the host', function () {
  let lab: Lab;
  before(function () {
    if (!isRoot()) this.skip();
  });
  beforeEach(async () => {
    lab = await Lab.create();
    await lab.writeProfile(lab.seedProfile());
  });
  afterEach(async () => {
    await lab?.destroy();
    expect(await lab.namespaces(), 'the lab left namespaces behind').to.deep.equal([]);
  });

  const inside = (args: string[]) =>
    sh(['ip', 'netns', 'exec', lab.profile, process.execPath, CLI, ...args], { env: lab.env() });
  const strip = (json: string) => JSON.stringify({ ...JSON.parse(json), generatedAt: undefined, at: undefined });

  it('status --json from inside equals status --json from the host; up again from inside changes nothing', async () => {
    const up = await lab.oob(['up', lab.profile]);
    expect(up.code, up.stderr).to.equal(0);
    const outside = await lab.oob(['status', lab.profile, '--json']);
    const fromPlane = await inside(['status', lab.profile, '--json']);
    expect(fromPlane.code, fromPlane.stderr).to.equal(outside.code);
    expect(JSON.parse(fromPlane.stdout).profiles[0].nic).to.deep.equal(JSON.parse(outside.stdout).profiles[0].nic);
    expect(JSON.parse(fromPlane.stdout).profiles[0].nic).to.include({ inNamespace: true, leftInHost: false });
    expect(strip(fromPlane.stdout)).to.equal(strip(outside.stdout));
    // taken for the host, the namespace had the NIC "in the host" and up tried to move it again
    const again = await inside(['up', lab.profile, '--json']);
    expect(again.code, again.stderr).to.equal(0);
    expect(JSON.parse(again.stdout).changed).to.equal(false);
  });

  it("the host's namespaces out of reach: one line, exit 14, nothing run in the plane's namespace instead", async () => {
    const up = await lab.oob(['up', lab.profile]);
    expect(up.code, up.stderr).to.equal(0);
    const r = await sh(['ip', 'netns', 'exec', lab.profile, process.execPath, CLI, 'down', lab.profile], {
      env: lab.env({ OOB_HOST_MNTNS: '/nonexistent/ns/mnt' }),
    });
    expect(r.code, r.stderr).to.equal(14);
    expect(r.stderr.trim().split('\n')).to.have.length(1);
    expect(r.stderr).to.match(
      new RegExp(
        `^oob: this runs inside the management plane ${lab.profile} and cannot enter the host's namespaces \\(/nonexistent/ns/mnt: ENOENT\\)`,
      ),
    );
    const st = await lab.oob(['status', lab.profile, '--json']);
    expect(JSON.parse(st.stdout).profiles[0].nic).to.include({ inNamespace: true });
  });
});
