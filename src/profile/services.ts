// The services `oob enable` gives a profile that has none: an sshd copy unless told otherwise, so
// that the one-liner gives a way in. Pure text editing; an existing profile's services stay as written.
import { OobError } from '../errors.js';
import { setKeys } from './edit.js';
import { scanIni } from './lines.js';
import { PRESETS, presetNames } from './presets.js';

export const DEFAULT_SERVICES = ['sshd'];

/** A --service value -> its section: a preset (sshd), or an installed unit to copy (snmpd.service). */
export function serviceSection(spec: string): { section: string; keys: Record<string, string> } {
  if (Object.hasOwn(PRESETS, spec)) return { section: `service.${spec}`, keys: { preset: spec } };
  const unit = /^([A-Za-z0-9][A-Za-z0-9_.-]{0,31})\.service$/.exec(spec);
  if (unit) return { section: `service.${unit[1]}`, keys: { from: spec } };
  throw new OobError(
    'badProfile',
    `--service ${spec}: not a preset (${presetNames().join(', ')}: see oob presets) nor an installed unit's name like snmpd.service; nothing was written`,
  );
}

/** Add the wanted services' sections to a profile that has no [service.*] section yet. */
export function withServices(text: string, wanted: string[] = DEFAULT_SERVICES): string {
  const sections = wanted.map(serviceSection);
  if (scanIni(text).sections.some((s) => s.name.startsWith('service.'))) return text;
  for (const s of sections) text = setKeys(text, s.section, s.keys);
  return text;
}
