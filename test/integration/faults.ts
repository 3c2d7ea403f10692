// Real failures midway, made outside oob: oob has no test hook. A step fails because the kernel
// or the file system refuses it, never because oob was told to fail.
//  - ipFailingAtLine: an `ip` first on PATH that hands the real ip a line the kernel refuses in
//    place of the k-th line of oob's change batches (`ip [-n NS] [-force] -batch -`, not -j reads).
//  - readOnlyDir: run oob in a private mount namespace where a directory is bind-mounted read-only,
//    so a file step writing there fails with EROFS, as it would on a read-only or broken file system.
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { CLI, sh, type Lab, type Result } from './lab.js';

const REAL_NFT = ['/usr/sbin/nft', '/sbin/nft', '/usr/bin/nft'].find((p) => existsSync(p)) ?? 'nft';
const REAL_SYSCTL = ['/usr/sbin/sysctl', '/sbin/sysctl', '/usr/bin/sysctl'].find((p) => existsSync(p)) ?? 'sysctl';
const REAL_IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => existsSync(p)) ?? 'ip';

/** A directory holding an `ip` that fails the k-th line of oob's change batches, for real. */
export async function ipFailingAtLine(lab: Lab, k: number): Promise<string> {
  const dir = path.join(lab.dir, `fault-ip-${k}`);
  await fsp.mkdir(dir, { recursive: true });
  const counter = path.join(dir, 'lines');
  await fsp.writeFile(counter, '0\n');
  await fsp.writeFile(
    path.join(dir, 'ip'),
    `#!/bin/sh
case " $* " in *" -batch "*) ;; *) exec ${REAL_IP} "$@" ;; esac
case " $* " in *" -j "*) exec ${REAL_IP} "$@" ;; esac
n=$(cat ${counter})
in=${dir}/batch.$$
while IFS= read -r line; do
  n=$((n + 1))
  if [ "$n" -eq ${k} ]; then echo "link set dev oob-fault-injected up"; else printf '%s\\n' "$line"; fi
done > "$in"
echo "$n" > ${counter}
exec ${REAL_IP} "$@" < "$in"
`,
    { mode: 0o755 },
  );
  return dir;
}

/** A directory holding an `ip` that fails the first line of oob's change batches containing `text`, for real. */
export async function ipFailingOnLine(lab: Lab, text: string): Promise<string> {
  const dir = path.join(lab.dir, `fault-ip-match`);
  await fsp.mkdir(dir, { recursive: true });
  await fsp.writeFile(path.join(dir, 'pattern'), text + '\n');
  await fsp.writeFile(
    path.join(dir, 'ip'),
    `#!/bin/sh
case " $* " in *" -batch "*) ;; *) exec ${REAL_IP} "$@" ;; esac
case " $* " in *" -j "*) exec ${REAL_IP} "$@" ;; esac
in=${dir}/batch.$$
while IFS= read -r line; do
  if [ ! -e ${dir}/done ] && [ "\${line#*$(cat ${dir}/pattern)}" != "$line" ]; then : > ${dir}/done; echo "link set dev oob-fault-injected up"; else printf '%s\n' "$line"; fi
done > "$in"
exec ${REAL_IP} "$@" < "$in"
`,
    { mode: 0o755 },
  );
  return dir;
}

/** Run oob in the lab's host namespace with extra argv before node (e.g. unshare) and env. */
export function oobVia(lab: Lab, prefix: string[], args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return sh(['/usr/bin/nsenter', `--net=/run/netns/${lab.host}`, '--', ...prefix, process.execPath, CLI, ...args], {
    env: lab.env(env),
  });
}

/** The argv prefix that runs a command with dir read-only (a private mount namespace: nothing leaks out). */
export const readOnlyDir = (dir: string) => [
  '/usr/bin/unshare',
  '-m',
  '--propagation',
  'private',
  '/bin/sh',
  '-c',
  'mount --bind -o ro "$0" "$0" && exec "$@"',
  dir,
];

/** A directory with `name` first on PATH: it fails (exit 1, for real: the command is not run) when its input or argv holds `text`. */
export async function failingTool(lab: Lab, name: 'nft' | 'sysctl', text: string): Promise<string> {
  const dir = path.join(lab.dir, `fault-${name}`);
  await fsp.mkdir(dir, { recursive: true });
  const real = name === 'nft' ? REAL_NFT : REAL_SYSCTL;
  await fsp.writeFile(path.join(dir, 'pattern'), text);
  await fsp.writeFile(
    path.join(dir, name),
    `#!/bin/sh
in=${dir}/in.$$
if [ "$1" = "-f" ] && [ "$2" = "-" ]; then cat > "$in"; else : > "$in"; fi
if [ ! -e ${dir}/done ] && { grep -qF -- "$(cat ${dir}/pattern)" "$in" || case " $* " in *"$(cat ${dir}/pattern)"*) true;; *) false;; esac; }; then
  : > ${dir}/done; echo "injected failure" >&2; exit 1
fi
if [ "$1" = "-f" ] && [ "$2" = "-" ]; then exec ${real} "$@" < "$in"; fi
exec ${real} "$@"
`,
    { mode: 0o755 },
  );
  return dir;
}
