// The record of what oob did for a profile's [nat] and [forward] (RUNTIME/NAME/nat.json), written
// by `up` before it loads a table or changes a sysctl, read by `down` (which works without the
// profile) and by the next `up`. It is also what makes a table oob's: a table oob-NAME that no
// record claims is someone else's, and oob leaves it alone.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { readVersionedJson } from '../sys/files.js';
import { natFile } from './layout.js';

export interface NatSideRecord {
  /** The ruleset oob loaded into its table there (with `nft -f`); empty: no table. */
  script: string;
  /**
   * The sysctls oob set to 1 there, each with the value it had before. In the host, a value one
   * profile set is shared: the next profile records the value from before the first.
   */
  sysctls: Record<string, string>;
}

export interface NatRecord {
  version: 1;
  profile: string;
  host?: NatSideRecord;
  namespace?: NatSideRecord;
}

export const readNatRecord = (runtimeDir: string, profile: string) =>
  readVersionedJson<NatRecord>(natFile(runtimeDir, profile), 1);

/** Every profile's NAT record in the runtime directory (for the host sysctls they share). */
export async function readAllNatRecords(runtimeDir: string): Promise<NatRecord[]> {
  const dirs = await fsp.readdir(runtimeDir, { withFileTypes: true }).catch(() => []);
  const recs = await Promise.all(
    dirs.filter((d) => d.isDirectory()).map((d) => readNatRecord(runtimeDir, path.basename(d.name))),
  );
  return recs.filter((r): r is NatRecord => r !== undefined);
}
