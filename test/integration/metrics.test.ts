import { expect } from 'chai';
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { parseExposition, valueOf, type Family } from '../helpers/exposition.js';
import { Lab, must, needSshd, sh, waitFor } from './lab.js';

/** promtool (Debian's prometheus package) checks the text: format and naming lint; its exit code and output. */
async function promtool(text: string): Promise<{ code: number; out: string }> {
  const r = await sh(['promtool', 'check', 'metrics'], { input: text });
  return { code: r.code, out: r.stdout + r.stderr };
}

// A real running profile (the lab's NIC, an sshd copy kept by `oob start`'s supervisor) seen as
// Prometheus metrics: `oob status --format prometheus`, and the file the supervisor keeps in a
// textfile-collector directory; both accepted by promtool.
describe('integration: metrics (oob status --format prometheus, the textfile collector)', function () {
  let lab: Lab;
  let dir = '';
  let file = '';
  needSshd('the metrics tests');
  before(function () {
    if (!existsSync('/usr/bin/promtool'))
      throw new Error('the metrics tests need promtool (the prometheus package; test/install-deps.sh installs it)');
  });
  beforeEach(async () => {
    lab = await Lab.create();
    await lab.makeHostKey();
    await lab.writeProfile(
      lab.seedProfile(
        `[service.sshd]\nexec = ${lab.sshdCommand()} -o PidFile=none\nready = tcp:22\nrestart = on-failure\nrestart-delay = 100ms\n`,
      ),
    );
    dir = path.join(lab.dir, 'textfile'); // the lab's OOB_TEXTFILE_DIR (absent until a test makes it)
    file = path.join(dir, `oob_${lab.profile}.prom`);
  });
  afterEach(async () => {
    await lab.destroy();
  });

  const start = async () => {
    const r = await lab.oob(['start', lab.profile], { OOB_TEXTFILE_INTERVAL: '1' });
    expect(r.code, r.stderr).to.equal(0);
  };
  const v = (f: Family[], name: string, labels: Record<string, string> = {}) =>
    valueOf(f, name, { profile: lab.profile, ...labels });

  it('oob status --format prometheus: promtool accepts it, and it says what status --json says', async () => {
    await start();
    const r = await lab.oob(['status', '--format', 'prometheus', lab.profile]);
    expect(r.code, r.stderr).to.equal(0);
    const check = await promtool(r.stdout);
    expect(check, check.out).to.deep.equal({ code: 0, out: '' });
    const f = parseExposition(r.stdout);
    const j = JSON.parse((await lab.oob(['status', '--json', lab.profile])).stdout).profiles[0];
    expect(v(f, 'oob_up')).to.equal(1);
    expect(v(f, 'oob_health', { state: 'ok' })).to.equal(1);
    expect(v(f, 'oob_nic_info', { nic: lab.nic, mac: j.nic.mac })).to.equal(1);
    expect(v(f, 'oob_nic_carrier')).to.equal(1);
    expect(v(f, 'oob_gateway_route', { gateway: '10.20.30.20' })).to.equal(1);
    expect(v(f, 'oob_supervisor_up')).to.equal(1);
    expect(v(f, 'oob_supervisor_start_time_seconds')).to.equal(Date.parse(j.supervisor.since) / 1000);
    expect(v(f, 'oob_service_ready', { service: 'sshd' })).to.equal(1);
    expect(v(f, 'oob_service_restarts_total', { service: 'sshd' })).to.equal(0);

    // the NIC's carrier gone (its peer down): down, and the metrics say so too, with the same exit code
    await must(['ip', '-n', lab.router, 'link', 'set', 'r0', 'down']);
    const d = await lab.oob(['status', '--format', 'prometheus', lab.profile]);
    expect(d.code, d.stderr).to.equal(21);
    const fd = parseExposition(d.stdout);
    expect([v(fd, 'oob_up'), v(fd, 'oob_nic_carrier'), v(fd, 'oob_health', { state: 'down' })]).to.deep.equal([
      0, 0, 1,
    ]);

    const both = await lab.oob(['status', '--json', '--format', 'prometheus', lab.profile]);
    expect(both.code).to.equal(2);
    expect(both.stderr.trim()).to.equal('oob: --json and --format prometheus ask for two formats: give one');
  });

  it('the supervisor keeps the file in the collector directory only when it exists: written, refreshed, removed at the stop', async () => {
    await start();
    // no directory: none is made, nothing is written (two intervals of 1 s pass: a write would have come)
    await new Promise((r) => setTimeout(r, 2500));
    expect(existsSync(dir), 'the supervisor made the collector directory').to.equal(false);

    await fsp.mkdir(dir);
    const first = await waitFor('the metrics file', () => fsp.readFile(file, 'utf8').catch(() => undefined));
    const check = await promtool(first);
    expect(check, check.out).to.deep.equal({ code: 0, out: '' });
    expect(v(parseExposition(first), 'oob_service_ready', { service: 'sshd' })).to.equal(1);
    expect((await fsp.stat(file)).mode & 0o777, 'node_exporter reads it as its own user').to.equal(0o644);

    // a state change (sshd killed, restarted by the supervisor) shows in the file
    const st = JSON.parse(await fsp.readFile(path.join(lab.runtimeDir, lab.profile, 'state.json'), 'utf8'));
    process.kill(st.services.sshd.pid, 'SIGKILL');
    const after = await waitFor('the restart in the metrics file', async () => {
      const t = await fsp.readFile(file, 'utf8');
      const f = parseExposition(t);
      return v(f, 'oob_service_restarts_total', { service: 'sshd' }) === 1 &&
        v(f, 'oob_service_ready', { service: 'sshd' }) === 1
        ? t
        : undefined;
    });
    expect((await promtool(after)).code).to.equal(0);

    // a change that is no event of the supervisor (the carrier) shows at the next refresh
    await must(['ip', '-n', lab.router, 'link', 'set', 'r0', 'down']);
    await waitFor('the lost carrier in the metrics file', async () => {
      const f = parseExposition(await fsp.readFile(file, 'utf8'));
      return v(f, 'oob_nic_carrier') === 0 && v(f, 'oob_up') === 0;
    });

    const stop = await lab.oob(['stop', lab.profile]);
    expect(stop.code, stop.stderr).to.equal(0);
    expect(await fsp.readdir(dir), 'the file (and no temp file) after the stop').to.deep.equal([]);
  });

  it('a bad OOB_TEXTFILE_INTERVAL is one warning, and the plane starts all the same', async () => {
    await fsp.mkdir(dir);
    const r = await lab.oob(['start', lab.profile], { OOB_TEXTFILE_INTERVAL: 'soon' });
    expect(r.code, r.stderr).to.equal(0);
    const log = await fsp.readFile(path.join(lab.runtimeDir, lab.profile, 'supervisor.log'), 'utf8');
    expect(log).to.include(
      `oob[${lab.profile}]: OOB_TEXTFILE_INTERVAL=soon is not a number of seconds from 1 to 3600: the metrics file is refreshed every 10 s`,
    );
    await waitFor('the metrics file', () => fsp.readFile(file, 'utf8').catch(() => undefined));
  });
});
