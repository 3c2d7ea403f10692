// The demo's second half: the management plane as an admin meets it. An sshd copy (the sshd preset,
// with a throw-away host key and config in the demo's temporary directory) runs under the
// supervisor; a real ssh client logs in through the management LAN and shows where its shell
// landed; the copy is killed and comes back; `oob status` shows the running plane.
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Io } from '../sys/io.js';
import { SSHD } from '../profile/presets.js';
import { readState } from '../state/supervisor.js';
import { until } from '../sys/until.js';
import { startSupervisor, stopSupervisor } from '../supervise/control.js';

const CLI = new URL('../cli.js', import.meta.url).pathname;

export interface LoginSetup {
  dir: string;
  clientKey: string;
  profileLines: string[];
}

const indent = (t: string) => t.replace(/^/gm, '    ');

/** The keys and sshd_config of the demo's copy, or undefined (said plainly) when OpenSSH is missing. */
async function prepare(io: Io, dir: string, say: (s: string) => void): Promise<LoginSetup | undefined> {
  const missing = [SSHD, '/usr/bin/ssh', '/usr/bin/ssh-keygen'].filter((p) => !existsSync(p));
  if (missing.length) {
    say(
      `==> note: ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not installed: the demo shows the network only, without the login through the management plane (Debian: apt-get install openssh-server openssh-client)\n`,
    );
    return undefined;
  }
  const hostKey = path.join(dir, 'ssh_host_ed25519_key');
  const clientKey = path.join(dir, 'client_key');
  for (const k of [hostKey, clientKey])
    await io.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'oob demo', '-f', k]);
  await fsp.copyFile(`${clientKey}.pub`, path.join(dir, 'authorized_keys'));
  const config = path.join(dir, 'sshd_config');
  await fsp.writeFile(
    config,
    [
      "# the demo's own sshd configuration: a throw-away host key, only the demo's client key",
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${dir}/authorized_keys`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no', // the temporary directory lives under /tmp
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return { dir, clientKey, profileLines: ['[service.sshd]', 'preset = sshd', `args = -f ${config}`, ''] };
}

async function run(
  io: Io,
  setup: LoginSetup,
  where: { ns: string; lan: string; address: string },
  say: (s: string) => void,
): Promise<void> {
  say(`\n==> oob start ${where.ns}: the supervisor brings the plane up and runs the sshd copy in it (preset = sshd)`);
  const started = await startSupervisor(io, where.ns, { timeoutMs: 30_000, profileDirArg: io.paths.profileDir });
  say(`    supervisor pid ${started.pid}: ${started.status}`);

  const ssh = [
    'ip',
    'netns',
    'exec',
    where.lan,
    'ssh',
    '-i',
    setup.clientKey,
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'LogLevel=ERROR',
    '-o',
    'ConnectTimeout=5',
    `root@${where.address}`,
  ];
  const remote = 'echo "logged in as $(id -un); this shell\'s network namespace: $(ip netns identify $$)"';
  say(`\n==> from the management LAN (namespace ${where.lan}): ssh root@${where.address}`);
  const r = await io.run([...ssh, remote], { allowFail: true });
  say(indent((r.stdout + r.stderr).trim() || `(ssh exited with status ${r.code})`));

  const before = (await readState(io.paths, where.ns))?.services.sshd;
  if (before?.pid) {
    say(`\n==> kill -9 the sshd copy (pid ${before.pid}), as a crash would`);
    const t0 = performance.now();
    try {
      process.kill(before.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    const back = await until(
      async () => {
        const s = (await readState(io.paths, where.ns))?.services.sshd;
        return s?.phase === 'running' && s.pid !== before.pid && s;
      },
      { intervalMs: 50, timeoutMs: 15_000 },
    );
    say(
      back
        ? `    the supervisor restarted it: pid ${back.pid}, ${Math.round(performance.now() - t0)} ms later (restarts: ${back.restarts})`
        : '    it did not come back within 15 s (see oob status)',
    );
    const again = await io.run([...ssh, 'echo "logged in again: $(ip netns identify $$)"'], { allowFail: true });
    say(indent((again.stdout + again.stderr).trim()));
  }

  say(`\n==> oob status ${where.ns}`);
  const st = await io.run([process.execPath, CLI, '--profile-dir', io.paths.profileDir, 'status', where.ns], {
    allowFail: true,
  });
  say(indent((st.stdout + st.stderr).trimEnd()));
}

export const loginPart = { prepare, run };

/** Stop a demo supervisor that runs (it brings the network down); true if there was one. */
export async function stopDemoSupervisor(io: Io, name: string): Promise<boolean> {
  const r = await stopSupervisor(io, name, { timeoutMs: 30_000 }).catch(() => ({ wasRunning: false }));
  return r.wasRunning;
}
