// Change keys of a profile's text in place, keeping every other line and comment. Pure.
import { OobError } from '../errors.js';

/** Printable, with control characters escaped, for a message. */
const shown = (v: string) =>
  JSON.stringify(v).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/**
 * Why a value cannot be written as `key = value` and read back as the same one value, or null.
 * A newline or a "[" would start a line or a section of its own, ";" and "#" a comment, "=" a
 * second key, quotes and backslashes an INI or shell escape: none of them belongs in a value
 * oob writes (addresses, NIC names, gateways).
 */
export function unsafeValue(value: string): string | null {
  if (value === '') return 'is empty';
  if (/[\u0000-\u001f\u007f-\u009f]/.test(value)) return 'holds a newline or another control character';
  const bad = /[[\];#="'\\]/.exec(value);
  if (bad) return `holds "${bad[0]}", which the profile's INI syntax would read as more than a value`;
  if (value !== value.trim()) return 'begins or ends with white space';
  return null;
}

/**
 * Set (or, with undefined, leave alone) keys of one section; the section is added if missing.
 * Throws (usage, nothing written: it is pure) when a value could not be written as one value.
 */
export function setKeys(text: string, section: string, values: Record<string, string | undefined>): string {
  for (const [key, value] of Object.entries(values)) {
    if (!/^[a-z][a-z0-9-]*$/.test(key)) throw new OobError('usage', `${shown(key)} is not a profile key`);
    const why = value === undefined ? null : unsafeValue(value);
    if (why)
      throw new OobError(
        'usage',
        `${key} ${shown(value!)} ${why}: give a plain value (an address, a NIC name, a MAC); nothing was written`,
      );
  }
  const lines = text.split('\n');
  const header = (l: string) => /^\s*\[([^\]]*)\]/.exec(l)?.[1]?.trim();
  const start = lines.findIndex((l) => header(l) === section);
  if (start < 0) {
    const tail = text === '' || text.endsWith('\n\n') ? '' : text.endsWith('\n') ? '\n' : '\n\n';
    const body = Object.entries(values)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k} = ${v}`);
    return `${text}${tail}[${section}]\n${body.join('\n')}\n`;
  }
  let end = lines.findIndex((l, i) => i > start && header(l) !== undefined);
  if (end < 0) end = lines.length;
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const re = new RegExp(`^(\\s*)${key.replace(/[-.]/g, '\\$&')}\\s*=`);
    const at = lines.findIndex((l, i) => i > start && i < end && re.test(l));
    if (at >= 0) {
      lines[at] = `${re.exec(lines[at]!)![1]}${key} = ${value}`;
    } else {
      // after the section's last non-blank line
      let ins = end;
      while (ins - 1 > start && lines[ins - 1]!.trim() === '') ins--;
      lines.splice(ins, 0, `${key} = ${value}`);
      end++;
    }
  }
  return lines.join('\n');
}

export function newProfileText(name: string): string {
  return [
    `# oob profile "${name}", written by oob enable. Reference: profiles/mgmt.ini and the README.`,
    `# The file name is the namespace name. Keep it owned by root and not writable by others.`,
    '',
    '[interface]',
    '',
  ].join('\n');
}
