// The sshd fixture: a host key of the lab's own, the command line of an sshd copy on the
// management address, and the suite-level setup (root, openssh-server, /run/sshd).
import { existsSync, promises as fsp } from 'node:fs';
import { isRoot, must } from './commands.js';

/** A fresh ed25519 host key at `file`, without a passphrase. */
export async function makeHostKey(file: string): Promise<void> {
  await must(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', file]);
}

/** An sshd copy with its own host key, listening on the management address (extra: -D -e, or '' to fork). */
export function sshdCommand(hostKey: string, extra = '-D -e'): string {
  return `/usr/sbin/sshd ${extra} -f /dev/null -o HostKey=${hostKey} -o ListenAddress=10.20.30.1 -o Port=22`;
}

/**
 * For a suite that runs real sshd copies: skipped without root (with a visible line), refused
 * without openssh-server, and sshd's privilege separation directory created for the suite and
 * removed after it if the suite made it. Call it inside the suite's describe.
 */
export function needSshd(what: string): void {
  let created = false;
  before(async function () {
    if (!isRoot()) {
      console.log(`    SKIPPED: ${what} need root`);
      this.skip();
    }
    if (!existsSync('/usr/sbin/sshd'))
      throw new Error(`${what} need openssh-server (test/install-deps.sh installs it)`);
    if (!existsSync('/run/sshd')) {
      await fsp.mkdir('/run/sshd', { mode: 0o755 });
      created = true;
    }
  });
  after(async () => {
    if (created) await fsp.rm('/run/sshd', { recursive: true, force: true });
  });
}
