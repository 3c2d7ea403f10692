import { expect } from 'chai';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { statusSchema } from '../../src/status/schema.js';
import { startTime } from '../../src/sys/proc.js';
import { validate } from '../helpers/schema.js';
import { Lab, must, waitFor, needSshd } from './lab.js';
import { oobVia, readOnlyDir } from './faults.js';

interface Report {
  health: string;
  profiles: Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe('integration: oob status and oob doctor, with faults injected for real', function () {
  let lab: Lab;
  needSshd('the status tests');
  beforeEach(async () => {
    lab = await Lab.create();
    await lab.makeHostKey();
    await lab.writeProfile(
      lab.seedProfile(
        `[service.sshd]\nexec = ${lab.sshdCommand()} -o PidFile=none\nready = tcp:22\nrestart = on-failure\nrestart-delay = 100ms\n`,
      ),
    );
    const r = await lab.oob(['start', lab.profile]);
    expect(r.code, r.stderr).to.equal(0);
  });
  afterEach(async () => {
    await lab.destroy();
  });

  async function status(): Promise<{
    code: number;
    report: Report;
    text: string;
    doctor: { code: number; out: string };
  }> {
    const j = await lab.oob(['status', '--json', lab.profile]);
    const report = JSON.parse(j.stdout) as Report;
    expect(validate(statusSchema as never, report), 'status --json does not match its schema').to.deep.equal([]);
    const t = await lab.oob(['status', lab.profile]);
    expect(t.code, 'the table and the JSON agree on the exit code').to.equal(j.code);
    const d = await lab.oob(['doctor', lab.profile]);
    return { code: j.code, report, text: t.stdout, doctor: { code: d.code, out: d.stdout } };
  }
  const p0 = (s: { report: Report }) => s.report.profiles[0]!;

  it('a healthy profile: exit 0, the JSON matches its schema, doctor has no FAIL', async () => {
    const s = await status();
    expect(s.code, s.text).to.equal(0);
    const p = p0(s);
    expect(p).to.deep.include({ name: lab.profile, health: 'ok', problems: [] });
    expect(p.nic).to.include({ name: lab.nic, inNamespace: true, up: true, carrier: true });
    expect(p.addresses).to.deep.equal(['10.20.30.1/24']);
    expect(p.gateways[0]).to.include({ address: '10.20.30.20', route: true });
    expect(p.supervisor.running).to.equal(true);
    expect(p.services[0]).to.include({ name: 'sshd', ready: true, restarts: 0 });
    expect(p.services[0].listening).to.deep.equal(['tcp:22']);
    expect(s.text).to.match(new RegExp(`^${lab.profile}  OK  `));
    expect(s.doctor.code, s.doctor.out).to.equal(0);
    expect(s.doctor.out).not.to.match(/^FAIL/m);
    expect(s.doctor.out).to.match(/^PASS {2}service sshd +running, pid \d+, listening tcp:22$/m);
  });

  it('without a writable temporary directory (/tmp read-only) the namespaces are read one by one: the same report', async () => {
    const r = await oobVia(lab, readOnlyDir('/tmp'), ['status', '--json', lab.profile], { TMPDIR: '/tmp' });
    expect(r.code, r.stderr).to.equal(0);
    const p = (JSON.parse(r.stdout) as Report).profiles[0]!;
    expect(p).to.deep.include({ name: lab.profile, health: 'ok', problems: [] });
    expect(p.nic).to.include({ name: lab.nic, inNamespace: true, up: true, carrier: true });
    expect(p.addresses).to.deep.equal(['10.20.30.1/24']);
    expect(p.gateways[0]).to.include({ address: '10.20.30.20', route: true });
  });

  it('a name that is no profile, namespace or record is a typo: exit 4 with the profiles there, for status and doctor', async () => {
    for (const cmd of ['status', 'doctor']) {
      const r = await lab.oob([cmd, 'nosuchprofile']);
      expect(r.code, r.stderr).to.equal(4);
      expect(r.stderr.trim()).to.equal(
        `oob: no profile "nosuchprofile" in ${lab.profileDir}; profiles there: ${lab.profile}`,
      );
    }
  });

  it('--probe asks the gateway by ARP and reads its answer', async () => {
    const r = await lab.oob(['status', '--json', '--probe', lab.profile]);
    expect(JSON.parse(r.stdout).profiles[0].gateways[0].neighbour).to.equal('REACHABLE');
  });

  // the JSON report, as a test reads it: any shape, checked by the assertions themselves
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const faults: Array<[string, number, (l: Lab) => Promise<void>, (p: Record<string, any>) => void, RegExp]> = [
    [
      'the NIC down',
      21,
      (l) => must(['ip', '-n', l.profile, 'link', 'set', l.nic, 'down']).then(() => {}),
      (p) => expect(p.nic).to.include({ up: false }),
      /^FAIL {2}links up +.* is administratively down$/m,
    ],
    [
      'the address removed',
      21,
      (l) => must(['ip', '-n', l.profile, 'addr', 'flush', 'dev', l.nic, 'scope', 'global']).then(() => {}),
      (p) => expect(p.addresses).to.deep.equal([]),
      /^FAIL {2}addresses present +.* has no address$/m,
    ],
    [
      'the default route removed',
      20,
      (l) => must(['ip', '-n', l.profile, 'route', 'del', 'default']).then(() => {}),
      (p) => expect(p.gateways[0]).to.include({ route: false }),
      /^FAIL {2}default route +no default route via 10\.20\.30\.20/m,
    ],
    [
      'a service killed for good',
      20,
      async (l) => {
        const st = JSON.parse(await fsp.readFile(path.join(l.runtimeDir, l.profile, 'state.json'), 'utf8'));
        process.kill(st.services.sshd.pid, 'SIGTERM'); // exit 0 with restart = on-failure: it stays down
        await waitFor(
          'sshd to stay down',
          async () =>
            JSON.parse(await fsp.readFile(path.join(l.runtimeDir, l.profile, 'state.json'), 'utf8')).services.sshd
              .phase === 'stopped',
        );
      },
      (p) => expect(p.services[0]).to.include({ ready: false, phase: 'stopped', pid: null }),
      /^FAIL {2}service sshd +stopped; last exit: exited with status 0$/m,
    ],
    [
      "the namespace deleted behind oob's back",
      21,
      (l) => must(['ip', 'netns', 'del', l.profile]).then(() => {}),
      (p) => expect(p.namespace.exists).to.equal(false),
      /^FAIL {2}namespace exists +no network namespace/m,
    ],
    [
      'the supervisor gone',
      20,
      async (l) => {
        const st = JSON.parse(await fsp.readFile(path.join(l.runtimeDir, l.profile, 'state.json'), 'utf8'));
        process.kill(st.supervisor.pid, 'SIGKILL');
        await waitFor('the supervisor to be gone', async () => (await startTime(st.supervisor.pid)) === undefined); // gone, or a zombie
      },
      (p) => expect(p.supervisor.running).to.equal(false),
      /^FAIL {2}services +no supervisor runs/m,
    ],
  ];
  for (const [what, code, inject, field, line] of faults) {
    it(`${what}: exit ${code}, the JSON says so, doctor fails the matching check`, async () => {
      const healthy = await status();
      expect(healthy.code, `healthy before the fault: ${JSON.stringify(p0(healthy).problems)}`).to.equal(0);
      await inject(lab);
      const s = await status();
      expect(s.code, s.text).to.equal(code);
      expect(p0(s).health).to.equal(code === 21 ? 'down' : 'degraded');
      field(p0(s));
      expect(p0(s).problems.length).to.be.greaterThan(0);
      expect(s.doctor.code, s.doctor.out).to.equal(code);
      expect(s.doctor.out).to.match(line);
      expect(s.doctor.out).to.match(/^ +fix: /m);
    });
  }
});
