// oob start / oob stop on real namespaces: what stop finds, and the exit codes on the way.
import { expect } from 'chai';
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { SupervisorState } from '../../src/state/supervisor.js';
import { startTime } from '../../src/sys/proc.js';
import { isRoot, Lab, snapshot } from './lab.js';

describe('integration: oob stop finds the supervisor, oob start/stop exit codes', function () {
  let lab: Lab;
  let pids: number[] = [];
  before(function () {
    if (!isRoot()) {
      console.log('    SKIPPED: the oob start/stop tests need root (they create network namespaces)');
      this.skip();
    }
  });
  beforeEach(async () => {
    lab = await Lab.create();
  });
  afterEach(async () => {
    for (const p of pids)
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    pids = [];
    await lab.destroy();
    expect(await lab.namespaces()).to.deep.equal([]);
  });

  const stateFile = () => path.join(lab.runtimeDir, lab.profile, 'state.json');

  it('start sees and stop stops a supervisor whose state file is gone, and the network comes down; a supervisor of another runtime directory is not touched', async () => {
    await lab.writeProfile(lab.seedProfile());
    const st = await lab.oob(['start', lab.profile]);
    expect(st.code, st.stderr).to.equal(0);
    const sup = (JSON.parse(await fsp.readFile(stateFile(), 'utf8')) as SupervisorState).supervisor;
    pids.push(sup.pid);
    await fsp.rm(stateFile());
    const again = await lab.oob(['start', lab.profile]);
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout.trim()).to.equal(`${lab.profile}: already running (supervisor pid ${sup.pid})`);

    // another oob's runtime directory (it exists, so the directories themselves are compared): not this supervisor's business
    await fsp.mkdir(path.join(lab.dir, 'other-run'));
    const other = await lab.oob(['stop', lab.profile], { OOB_RUNTIME_DIR: path.join(lab.dir, 'other-run') });
    expect(other.code, other.stderr).to.equal(0);
    expect(other.stdout).to.match(/no supervisor was running/);
    expect(await startTime(sup.pid)).to.equal(sup.pidStart);

    const stop = await lab.oob(['stop', lab.profile]);
    expect(stop.code, stop.stderr).to.equal(0);
    expect(stop.stdout.trim()).to.equal(`${lab.profile}: stopped (supervisor pid ${sup.pid})`);
    expect(await startTime(sup.pid), 'the supervisor is still there').to.equal(undefined);
    expect(await lab.namespaces()).not.to.include(lab.profile);
    expect((await snapshot(lab.host)).links.map((l) => l.ifname)).to.include(lab.nic);
  });

  it('stop --timeout: a supervisor still stopping after it is killed, and what it left is brought down', async () => {
    // a service that ignores SIGTERM, with a long stop-timeout: the supervisor is still waiting for it
    await lab.writeProfile(
      lab.seedProfile(
        `[service.stubborn]\nexec = /bin/sh -c 'trap "" TERM && echo ready && exec sleep 300'\nstop-timeout = 60s\n`,
      ),
    );
    const st = await lab.oob(['start', lab.profile]);
    expect(st.code, st.stderr).to.equal(0);
    const state = JSON.parse(await fsp.readFile(stateFile(), 'utf8')) as SupervisorState;
    pids.push(state.supervisor.pid, state.services.stubborn!.pid!);
    const stop = await lab.oob(['stop', lab.profile, '--timeout', '1']);
    expect(stop.code, stop.stderr).to.equal(0);
    expect(stop.stdout.trim()).to.equal(
      `${lab.profile}: stopped (supervisor pid ${state.supervisor.pid}, killed after the timeout; what was left was cleaned up)`,
    );
    expect(await startTime(state.supervisor.pid)).to.equal(undefined);
    expect(await startTime(state.services.stubborn!.pid!), 'the service left in the namespace').to.equal(undefined);
    expect(await lab.namespaces()).not.to.include(lab.profile);
    expect((await snapshot(lab.host)).links.map((l) => l.ifname)).to.include(lab.nic);
    expect(existsSync(stateFile())).to.equal(false);
  });

  it('a system call the OS refuses is one line with its own exit code (14), not an internal error', async () => {
    await lab.writeProfile(lab.seedProfile());
    const r = await lab.oob(['stop', lab.profile], { OOB_RUNTIME_DIR: '/dev/null/run' });
    expect(r.code, r.stderr).to.equal(14);
    expect(r.stderr).to.equal(
      `oob: the operating system refused: open /dev/null/run/${lab.profile}/state.json: not a directory (ENOTDIR)\n`,
    );
  });
});
