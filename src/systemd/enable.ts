// `oob enable`, `oob disable`, `oob units`: make a profile come back at every boot through systemd.
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { OobError } from '../errors.js';
import { readFileOr, writeFileAtomic } from '../sys/files.js';
import type { Io } from '../sys/io.js';
import { packageDir } from '../sys/self.js';
import { observeHost, observeProfile } from '../observe/observe.js';
import { lockoutReasons } from '../plan/guard.js';
import { adoptableAddresses, adoptableGateways, describeNic, isMarkedFor, nicMatches } from '../observe/nic.js';
import { newProfileText, setKeys } from '../profile/edit.js';
import { readProfileFile } from '../profile/load.js';
import { checkProfileName } from '../profile/names.js';
import { parseProfile, ProfileProblems } from '../profile/parse.js';
import { withServices } from '../profile/services.js';
import { resolveFromUnits } from '../profile/units.js';
import type { Profile } from '../profile/types.js';
import { CommandError, firstLine } from '../sys/run.js';
import {
  dropInDirPattern,
  dropInPath,
  networkdRulePath,
  nmRulePath,
  packagedTemplatePath,
  profileFile as profileFileOf,
  templatePath,
  unitDir,
  unitName,
} from '../state/layout.js';
import { GENERATED, PACKAGED_EXEC, unitFiles, type FileOut, type UnitContext } from './render.js';
import { stableExec } from './stable.js';

export interface EnableOptions {
  nic?: string;
  addresses: string[];
  gateway?: string;
  now: boolean;
  root?: string;
  force: boolean;
  /** Services for a profile that has none: presets or UNIT.service names (default: sshd); [] for none. */
  services?: string[];
  /** --confirm: the lock-out guard lets the change through (it is reverted unless confirmed), recording nothing in the drop-in. */
  confirming?: boolean;
}

/** systemctl restart/stop wait for the unit's job: TimeoutStartSec=120 plus TimeoutStopSec=90 in units/oob@.service. */
export const UNIT_JOB_MS = 240_000;

const at = (root: string | undefined, p: string) => (root ? path.join(root, p) : p);

export function requireSystemd(root: string | undefined, what: string): void {
  if (!root && !existsSync('/run/systemd/system'))
    throw new OobError(
      'unsupported',
      `systemd is not running as init (PID 1) on this machine: nothing was ${what}; use --root DIR to write the files into an image, or run "oob run NAME" under another supervisor`,
    );
}

function parseOrThrow(name: string, file: string, text: string): Profile {
  const p = parseProfile(name, file, text);
  if (p instanceof ProfileProblems) {
    const lines = p.lines();
    throw new OobError('badProfile', lines[0]!, [...lines.slice(1), 'nothing was written']);
  }
  return p;
}

export interface Prepared {
  profile: Profile;
  profileFile: string;
  profileText: string;
  profileChanged: boolean;
  files: FileOut[];
  notes: string[];
}

/** Everything enable will write, computed without writing (also `oob units`). */
export async function prepare(io: Io, name: string, o: EnableOptions): Promise<Prepared> {
  const nameErr = checkProfileName(name);
  if (nameErr) throw new OobError('usage', nameErr);
  const profileFile = profileFileOf(io.paths.profileDir, name);
  // read with the same checks as every load: a profile someone else could write is not rewritten as root's
  const before = await readProfileFile(at(o.root, profileFile)).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  let text = setKeys(before ?? newProfileText(name), 'interface', {
    nic: o.nic,
    address: o.addresses.length ? o.addresses.join(', ') : undefined,
    gateway: o.gateway,
  });
  text = withServices(text, o.services);
  let profile = parseOrThrow(name, profileFile, text);
  const notes: string[] = [];
  // The package's template runs /usr/bin/oob: then only drop-ins are written. Else the template
  // goes to /etc, naming this oob, which must be somewhere that lasts (refused before anything).
  const packaged = existsSync(at(o.root, packagedTemplatePath));
  const ctx: UnitContext = {
    exec: packaged ? PACKAGED_EXEC : await stableExec(),
    profileDir: io.paths.profileDir,
    force: o.force,
    networkManager: existsSync(at(o.root, '/usr/sbin/NetworkManager')),
    networkd: ['/usr/lib/systemd/systemd-networkd', '/lib/systemd/systemd-networkd'].some((f) =>
      existsSync(at(o.root, f)),
    ),
  };
  if (profile.iface.nic.kind === 'mac') ctx.mac = profile.iface.nic.mac;
  else ctx.nicName = profile.iface.nic.name;

  if (!o.root) {
    // The NIC as this host sees it: its MAC for the unmanaged rules, its addresses to adopt.
    const base = await observeHost(io);
    const state = await observeProfile(io, name, base);
    const inHost = base.host.links.find((l) => nicMatches(profile.iface.nic, l));
    const inNs = state.ns?.links.find(isMarkedFor(name));
    const nic = inHost ?? inNs;
    if (!nic)
      throw new OobError(
        'precondition',
        `${describeNic(profile.iface.nic)} was not found in the host namespace (${base.host.links.map((l) => l.ifname).join(', ')}) nor in namespace ${name}: check --nic`,
      );
    ctx.mac = nic.permaddr ?? nic.mac;
    ctx.nicName = inHost ? inHost.ifname : (state.record?.nic.name ?? nic.ifname);
    if (inHost) {
      const reasons = lockoutReasons(inHost, base.host, base.ssh);
      for (const r of o.force ? reasons : [])
        notes.push(
          `--force, recorded as OOB_FORCE=1 in the drop-in (every start overrides the lock-out guard, and logs it): ${r}`,
        );
      for (const r of o.confirming && !o.force ? reasons : [])
        notes.push(`--confirm lets this through (it is reverted unless confirmed): ${r}`);
      if (reasons.length && !o.force && !o.confirming)
        throw new OobError('lockout', `refusing to enable ${name}: ${reasons[0]}`, [
          ...reasons.slice(1),
          'nothing was written; if this is really the NIC to move (you are on a console), run again with --force',
        ]);
    }
    if (!profile.iface.addresses.length && !profile.iface.dhcp4) {
      // At boot the unit runs before the network managers, when the NIC has no address yet to
      // adopt: write what it has now into the profile. A leased IPv4 address (the kernel flags it
      // dynamic) is not frozen: it becomes address = dhcp, and its gateway comes with the lease.
      const leased = new Set(
        (inHost?.addrs ?? state.record?.nic.addrs ?? [])
          .filter((a) => a.family === 'inet' && a.dynamic)
          .map((a) => `${a.local}/${a.prefixlen}`),
      );
      const found = inHost ? adoptableAddresses(inHost) : (state.record?.adopted?.addresses ?? []);
      const addrs = leased.size ? ['dhcp', ...found.filter((a) => !leased.has(a))] : found;
      const gws = (
        inHost ? adoptableGateways(base.host.routes, inHost.ifname) : (state.record?.adopted?.gateways ?? [])
      ).filter((g) => !leased.size || g.includes(':'));
      if (!addrs.length)
        throw new OobError(
          'precondition',
          `${profileFile}: no address given and ${ctx.nicName} has none to adopt: give --address CIDR (and --gateway IP)`,
        );
      text = setKeys(text, 'interface', {
        address: addrs.join(', '),
        gateway: !profile.iface.gateways.length && gws.length ? gws.join(', ') : undefined,
      });
      profile = parseOrThrow(name, profileFile, text);
      notes.push(
        `adopted ${ctx.nicName}'s configuration into the profile: ${addrs.join(', ')}${gws.length ? `, gateway ${gws.join(', ')}` : ''}`,
      );
    }
  } else if (!profile.iface.addresses.length) {
    throw new OobError(
      'precondition',
      `${profileFile}: no address in the profile: with --root there is no NIC here to adopt from, give --address CIDR`,
    );
  }

  await resolveFromUnits(profile, o.root, 'nothing was written');
  const template = packaged ? undefined : await readTemplate();
  return {
    profile,
    profileFile,
    profileText: text,
    profileChanged: text !== before,
    files: unitFiles(profile, template, ctx),
    notes,
  };
}

async function readTemplate(): Promise<string> {
  const dir = packageDir();
  if (!dir)
    throw new OobError(
      'precondition',
      `neither ${packagedTemplatePath} (the package's) nor units/oob@.service next to oob was found: reinstall oob; nothing was written`,
    );
  return fsp.readFile(path.join(dir, 'units', 'oob@.service'), 'utf8');
}

/** Files of ours may be replaced; an admin's own file of the same name is not clobbered. */
async function checkNotForeign(root: string | undefined, files: FileOut[]): Promise<void> {
  for (const f of files) {
    const cur = await readFileOr(at(root, f.path), undefined);
    // the template carries no GENERATED line (it is the shipped file); it names `oob enable` instead
    const ours = cur === undefined || cur.includes(f.path === templatePath ? 'oob enable' : GENERATED);
    if (!ours)
      throw new OobError(
        'precondition',
        `${at(root, f.path)} exists and was not written by oob: move it away first; nothing was written`,
      );
  }
}

const nicOf = (prep: Prepared) => (prep.profile.iface.nic.kind === 'name' ? prep.profile.iface.nic.name : undefined);

export interface EnableResult {
  written: string[];
  /** What this run changed (for --json): the files whose content differs, and whether the unit was newly enabled or (re)started. */
  changed: { files: string[]; enabled: boolean; started: boolean };
  notes: string[];
  active?: string;
}

/** systemctl is-enabled/is-active, allowed to fail: its first word, '' when it said nothing. */
const unitQuery = async (io: Io, root: string | undefined, verb: string, unit: string) =>
  (await io.run(['systemctl', ...(root ? [`--root=${root}`] : []), verb, unit], { allowFail: true })).stdout.trim();

export async function enable(io: Io, name: string, o: EnableOptions): Promise<EnableResult> {
  const nameErr = checkProfileName(name);
  if (nameErr) throw new OobError('usage', nameErr);
  requireSystemd(o.root, 'enabled');
  const prep = await prepare(io, name, o);
  await checkNotForeign(o.root, prep.files);
  // remember what was there, to put it back if systemd refuses
  const previous = await Promise.all(
    [prep.profileFile, ...prep.files.map((f) => f.path)].map(async (p) => ({
      path: p,
      content: await readFileOr(at(o.root, p), undefined),
    })),
  );
  const written: string[] = [];
  const differs = [
    ...(prep.profileChanged ? [at(o.root, prep.profileFile)] : []),
    ...prep.files.filter((f, i) => previous[i + 1]!.content !== f.content).map((f) => at(o.root, f.path)),
  ];
  const unit = unitName(name);
  const wasEnabled = (await unitQuery(io, o.root, 'is-enabled', unit)) === 'enabled';
  const wasActive = !o.root && (await unitQuery(io, o.root, 'is-active', unit)) === 'active';
  const undo = async () => {
    for (const p of previous) {
      if (p.content === undefined) await fsp.rm(at(o.root, p.path), { force: true });
      else await writeFileAtomic(at(o.root, p.path), p.content, p.path === prep.profileFile ? 0o600 : 0o644);
    }
    await fsp.rmdir(path.dirname(at(o.root, dropInPath(name)))).catch(() => {});
  };
  try {
    if (prep.profileChanged) {
      await writeFileAtomic(at(o.root, prep.profileFile), prep.profileText, 0o600);
      written.push(at(o.root, prep.profileFile));
    }
    for (const f of prep.files) {
      await writeFileAtomic(at(o.root, f.path), f.content, f.mode);
      written.push(at(o.root, f.path));
    }
    if (o.root) {
      await io.run(['systemctl', `--root=${o.root}`, 'enable', unit]);
      return {
        written,
        changed: { files: differs, enabled: !wasEnabled, started: false },
        notes: [...prep.notes, ...[await ifupdownNote(o.root, nicOf(prep))].filter((n): n is string => !!n)],
      };
    }
    await io.run(['systemctl', 'daemon-reload']);
    await io.run(['systemctl', 'enable', unit]);
    // nothing changed and it runs: a restart would only bounce the management plane
    const restart = o.now && (differs.length > 0 || !wasActive);
    if (restart) {
      try {
        await io.run(['systemctl', 'restart', unit], { timeoutMs: UNIT_JOB_MS });
      } catch (e) {
        await io.run(['systemctl', 'disable', '--now', unit], { allowFail: true, timeoutMs: UNIT_JOB_MS });
        throw e;
      }
    }
    const active = (await io.run(['systemctl', 'is-active', unit], { allowFail: true })).stdout.trim();
    return {
      written,
      changed: { files: differs, enabled: !wasEnabled, started: restart },
      notes: [...prep.notes, ...[await ifupdownNote(o.root, nicOf(prep))].filter((n): n is string => !!n)],
      active,
    };
  } catch (e) {
    await undo();
    if (!o.root) await io.run(['systemctl', 'daemon-reload'], { allowFail: true });
    if (e instanceof CommandError)
      throw new OobError(
        'rolledBack',
        `${e.argv.join(' ')} failed (${firstLine(e.result.stderr) || `exit ${e.result.code}`}); enable was rolled back: files restored, unit disabled`,
        [`see: journalctl -u ${unitName(name)}`],
      );
    throw e;
  }
}

/** ifupdown (Debian's default) would try to configure the NIC at boot too: tell the admin. */
async function ifupdownNote(root: string | undefined, nic: string | undefined): Promise<string | undefined> {
  if (!nic) return undefined;
  const dir = at(root, '/etc/network/interfaces.d');
  const files = [
    at(root, '/etc/network/interfaces'),
    ...(await fsp.readdir(dir).catch(() => [] as string[])).map((f) => path.join(dir, f)),
  ];
  for (const f of files) {
    const text = await readFileOr(f, '');
    const re = new RegExp(`^\\s*(auto|allow-hotplug|iface)\\s+([^#\\n]*\\s)?${nic.replace(/[.]/g, '\\.')}(\\s|$)`, 'm');
    if (re.test(text))
      return `${f} configures ${nic} too (ifupdown): remove its "auto"/"allow-hotplug"/"iface" lines for ${nic}, or networking.service will fail to find it at boot`;
  }
  return undefined;
}

export interface DisableResult {
  removed: string[];
  stopped: boolean;
  /** Whether the unit was enabled before (for --json: disabling an enabled unit is a change). */
  wasEnabled: boolean;
}

export async function disable(io: Io, name: string, o: { now: boolean; root?: string }): Promise<DisableResult> {
  const nameErr = checkProfileName(name);
  if (nameErr) throw new OobError('usage', nameErr);
  requireSystemd(o.root, 'disabled');
  const unit = unitName(name);
  const systemctl = (args: string[]) =>
    io.run(['systemctl', ...(o.root ? [`--root=${o.root}`] : []), ...args], {
      allowFail: true,
      timeoutMs: UNIT_JOB_MS,
    });
  const wasEnabled = (await unitQuery(io, o.root, 'is-enabled', unit)) === 'enabled';
  if (o.now && !o.root) await systemctl(['stop', unit]);
  await systemctl(['disable', unit]);
  const removed: string[] = [];
  for (const p of [dropInPath(name), nmRulePath(name), networkdRulePath(name)]) {
    const cur = await readFileOr(at(o.root, p), undefined);
    if (cur === undefined || !cur.includes(GENERATED)) continue;
    await fsp.rm(at(o.root, p), { force: true });
    removed.push(at(o.root, p));
  }
  await fsp.rmdir(path.dirname(at(o.root, dropInPath(name)))).catch(() => {});
  // the template goes with the last profile that uses it
  const sysdir = at(o.root, unitDir);
  const others = (await fsp.readdir(sysdir).catch(() => [] as string[])).filter((d) => dropInDirPattern.test(d));
  const tpl = await readFileOr(at(o.root, templatePath), undefined);
  if (!others.length && tpl?.includes('oob enable')) {
    await fsp.rm(at(o.root, templatePath), { force: true });
    removed.push(at(o.root, templatePath));
  }
  if (!o.root) await systemctl(['daemon-reload']);
  let stopped = false;
  if (o.now && !o.root) {
    const { downProfile } = await import('../engine/ops.js');
    const r = await downProfile(io, name);
    stopped = true;
    if (r.steps.length) removed.push(`namespace ${name} (the NIC is back in the host)`);
  }
  return { removed, stopped, wasEnabled };
}
