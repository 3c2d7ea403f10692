// What ExecStart= may name: a unit outlives the shell that wrote it, so it must not run oob from a
// directory that goes away (a temporary directory, a clone in someone's home) or that another user
// can change (a root service would run their code).
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { OobError } from '../errors.js';
import { selfCli } from '../sys/self.js';

/** Directories whose contents do not last, or belong to one user. */
export const UNSTABLE_DIRS = ['/tmp', '/var/tmp', '/dev/shm', '/run', '/home', '/root'];

/** Why `file` is no place for a unit to run: undefined when it is a root-owned, lasting path. */
export async function unstableReason(file: string): Promise<string | undefined> {
  let real: string;
  try {
    real = await fsp.realpath(file);
  } catch {
    return `${file} does not exist`;
  }
  const under = UNSTABLE_DIRS.find((d) => real === d || real.startsWith(`${d}/`));
  if (under) return `${real} is under ${under}, which is temporary or one user's`;
  for (let p = real; ; p = path.dirname(p)) {
    const st = await fsp.stat(p);
    if (st.uid !== 0) return `${p} is owned by uid ${st.uid}, not by root`;
    if (st.mode & 0o002) return `${p} is writable by every user`;
    if (p === '/') return undefined;
  }
}

/** ExecStart='s command for a unit written without the package: node and this oob, both checked. */
export async function stableExec(): Promise<string> {
  const node = process.execPath;
  const cli = selfCli();
  for (const f of [node, cli]) {
    const why = await unstableReason(f);
    if (why)
      throw new OobError(
        'precondition',
        `refusing to write a unit that runs ${f}: ${why}, and every boot would depend on it`,
        [
          'install the package (npm run package, then apt install ./oob_VERSION_all.deb): its unit runs /usr/bin/oob and enable writes only drop-ins;',
          'or install oob under a root-owned directory such as /usr/local/lib/oob; nothing was written',
        ],
      );
  }
  return `${node} ${cli}`;
}
