// Names the kernel and systemd will accept. Pure.
import { reservedRuntimeNames } from '../state/layout.js';
import { escapeControls } from './lines.js';

/** A name as a message shows it: control characters escaped, at most 40 characters (it came from a command line). */
const shown = (name: string) => escapeControls(name.length > 40 ? `${name.slice(0, 40)}…` : name);

/** Profile = namespace name; also a systemd instance name, so a conservative alphabet. */
export function checkProfileName(name: string): string | null {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name))
    return `"${shown(name)}" is not a valid profile/namespace name: use letters, digits, "_", "." and "-", starting with a letter or digit`;
  if (Buffer.byteLength(name) > 15)
    return `"${shown(name)}" is ${Buffer.byteLength(name)} bytes long; a namespace name here is at most 15 bytes`;
  if (reservedRuntimeNames().includes(name))
    return `"${name}" is a name oob keeps for its own files in its runtime directory: choose another profile name`;
  return null;
}

/** A Linux interface name: 1-15 bytes (IFNAMSIZ-1), no "/", ":" or white space, not "." or "..". */
export function checkIfName(name: string): string | null {
  if (name === '') return 'the interface name is empty';
  if (Buffer.byteLength(name) > 15)
    return `"${shown(name)}" is ${Buffer.byteLength(name)} bytes long; Linux interface names are at most 15 bytes`;
  if (name === '.' || name === '..' || /[/:\s]/.test(name))
    return `"${shown(name)}" is not a valid interface name (no "/", ":" or spaces, not "." or "..")`;
  return null;
}

export function checkMac(mac: string): string | null {
  return /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(mac)
    ? null
    : `"${shown(mac)}" is not a MAC address like 52:54:00:12:34:56`;
}
