// `from = UNIT.service`: find the installed unit, its drop-ins and environment files on disk (under
// a root for images), and fill the service section in from them (profile/unitfile.ts decides).
// The files are read directly, as systemd's own unit search path orders them, whether or not
// systemd runs: the copy means the same at boot, in an image, and in a container.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { OobError } from '../errors.js';
import type { Profile, ServiceConfig } from './types.js';
import { mergeUnit, unitCopy, type UnitCopy } from './unitfile.js';

/** systemd's search path for system units, highest priority first. */
export const UNIT_DIRS = [
  '/etc/systemd/system',
  '/run/systemd/system',
  '/lib/systemd/system',
  '/usr/lib/systemd/system',
];

const at = (root: string | undefined, p: string) => (root ? path.join(root, p) : p);
const readOr = (p: string) =>
  fsp.readFile(p, 'utf8').then(
    (t) => t,
    () => undefined,
  );

async function isMasked(p: string): Promise<boolean> {
  const target = await fsp.readlink(p).catch(() => undefined);
  return target === '/dev/null';
}

/** The unit file and its drop-ins, in the order systemd applies them; or why not. */
export async function readUnitFiles(
  unit: string,
  root?: string,
): Promise<{ name: string; files: Array<{ file: string; text: string }> } | string> {
  let main: { file: string; text: string } | undefined;
  let name = unit;
  for (const d of UNIT_DIRS) {
    const p = at(root, path.join(d, unit));
    // a masked unit (the host's copy switched off for good) is still a recipe for the namespace's
    if (await isMasked(p)) continue;
    const text = await readOr(p);
    if (text === undefined) continue;
    // an alias (sshd.service -> ssh.service) reads as the unit it names
    const real = await fsp.realpath(p).catch(() => p);
    name = path.basename(real).endsWith('.service') ? path.basename(real) : unit;
    main = { file: path.join(d, unit), text };
    break;
  }
  if (!main) return `${unit} is not installed (no unit file in ${UNIT_DIRS.join(', ')}${root ? ` under ${root}` : ''})`;
  const dropIns = new Map<string, { file: string; text: string }>();
  for (const n of new Set([unit, name]))
    for (const d of UNIT_DIRS) {
      const dir = path.join(d, `${n}.d`);
      for (const f of (await fsp.readdir(at(root, dir)).catch(() => [] as string[]))
        .filter((x) => x.endsWith('.conf'))
        .sort()) {
        if (dropIns.has(f)) continue; // the same name higher up the search path wins
        const text = await readOr(at(root, path.join(dir, f)));
        if (text !== undefined) dropIns.set(f, { file: path.join(dir, f), text });
      }
    }
  return { name, files: [main, ...[...dropIns.keys()].sort().map((k) => dropIns.get(k)!)] };
}

/** A unit activated through its own .socket gets its listening socket from systemd: a copy cannot. */
async function socketActivated(name: string, root?: string): Promise<string | undefined> {
  const sock = name.replace(/\.service$/, '.socket');
  for (const d of UNIT_DIRS) {
    const text = await readOr(at(root, path.join(d, sock)));
    if (text === undefined) continue;
    return /^\s*Accept\s*=\s*(yes|true|on|1)\s*$/im.test(text) ? undefined : path.join(d, sock);
  }
  return undefined;
}

/** Read UNIT as installed (under root) and say what a copy of it runs, or one line why it cannot. */
export async function copyOfUnit(unit: string, root?: string): Promise<UnitCopy | string> {
  const found = await readUnitFiles(unit, root);
  if (typeof found === 'string') return found;
  const sock = await socketActivated(found.name, root);
  if (sock)
    return `${unit}: socket activation (${sock}) cannot be honoured: systemd hands the listening socket to the daemon, and a copy has none`;
  const settings = mergeUnit(found.files);
  const first = unitCopy(found.name, settings, {});
  if (typeof first === 'string') return first;
  const envTexts: Record<string, string | undefined> = {};
  for (const f of first.envFiles) envTexts[f.path] = await readOr(at(root, f.path));
  const copy = unitCopy(found.name, settings, envTexts);
  if (typeof copy === 'string') return copy;
  for (const c of copy.conditions) {
    const exists = await fsp.stat(at(root, c.path)).then(
      () => true,
      () => false,
    );
    if (exists === c.negate) return `${unit}: ${c.where} does not hold: systemd would not start it either`;
  }
  return copy;
}

/** A section with from = UNIT, filled in: the keys the section wrote itself win. */
export function fillFromUnit(svc: ServiceConfig, copy: UnitCopy): ServiceConfig {
  const w = new Set(svc.from?.written ?? []);
  const forking = copy.type === 'forking';
  const pidfile = w.has('pidfile') ? svc.pidfile : forking ? copy.pidfile : undefined;
  const out: ServiceConfig = {
    ...svc,
    exec: w.has('exec') ? svc.exec : [...copy.exec, ...(svc.from?.args ?? [])],
    prestart: copy.prestart,
    env: { ...copy.env, ...svc.env },
    ready: w.has('ready') ? svc.ready : pidfile ? { kind: 'pidfile' } : { kind: 'none' },
    stopSignal: w.has('stop-signal') ? svc.stopSignal : (copy.stopSignal ?? svc.stopSignal),
    stopTimeoutMs: w.has('stop-timeout') ? svc.stopTimeoutMs : (copy.stopTimeoutMs ?? svc.stopTimeoutMs),
  };
  delete out.pidfile;
  delete out.user;
  delete out.group;
  const user = w.has('user') ? svc.user : copy.user;
  const group = w.has('group') ? svc.group : copy.group;
  return { ...out, ...(pidfile ? { pidfile } : {}), ...(user ? { user } : {}), ...(group ? { group } : {}) };
}

/** Every from = section of the profile filled in from its unit; the first one that cannot be copied: exit 3. */
export async function resolveFromUnits(
  profile: Profile,
  root?: string,
  after = 'nothing was started',
): Promise<Profile> {
  if (!profile.services.some((s) => s.from)) return profile;
  const services: ServiceConfig[] = [];
  for (const s of profile.services) {
    if (!s.from) {
      services.push(s);
      continue;
    }
    const copy = await copyOfUnit(s.from.unit, root);
    if (typeof copy === 'string')
      throw new OobError('badProfile', `${profile.file}:${s.from.line}: [service.${s.name}] from: ${copy}`, [after]);
    services.push(fillFromUnit(s, copy));
  }
  return { ...profile, services };
}
