// An image for `enable --root` (the enable, install, json and presets tests): a directory in the
// lab's with the profile directory oob writes there, and the enable command line they share.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Lab } from './namespaces.js';

/** The image directory, with its etc/oob/profiles (0700, as oob makes it). */
export async function makeImage(lab: Lab): Promise<string> {
  const img = path.join(lab.dir, 'image');
  await fsp.mkdir(path.join(img, 'etc/oob/profiles'), { recursive: true, mode: 0o700 });
  return img;
}

/** The NIC and address the image's profile is enabled with. */
export const ENS19 = ['--nic', 'ens19', '--address', '10.20.30.1/24'];

/** `oob enable mgmt --root IMG` with the profiles in the image's /etc/oob/profiles, then `flags`. */
export const enableInImage = (img: string, ...flags: string[]) => [
  '--profile-dir',
  '/etc/oob/profiles',
  'enable',
  'mgmt',
  '--root',
  img,
  ...flags,
];
