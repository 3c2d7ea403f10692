// The record of the NIC's host configuration, written by `up` before the NIC moves and read by
// `down` to put it back exactly (RUNTIME_DIR/NAME/nic.json).
import type { AddrInfo, Route } from '../net/ipjson.js';
import { readVersionedJson } from '../sys/files.js';

/** What `up` records about the NIC before moving it, so that `down` can put it back exactly. */
export interface NicRecord {
  version: 1;
  profile: string;
  createdNamespace: boolean;
  /** The network namespace (inode) the NIC came from. */
  hostNetns: string;
  nic: {
    name: string;
    mac: string;
    mtu: number;
    up: boolean;
    alias?: string;
    /** The bridge or bond it was a port of: it is made one again on the way back. */
    master?: string;
    addrs: AddrInfo[];
    routes: Route[];
  };
  /** Addresses and gateways taken from the host when the profile gave none. */
  adopted?: { addresses: string[]; gateways: string[] };
  at: string;
}

export const readRecord = (file: string) => readVersionedJson<NicRecord>(file, 1);

/**
 * A profile without a NIC has no NIC record: this one says that oob created its namespace (written
 * by `up` before `ip netns add`, removed by `down` after the namespace is gone), so that `down` and
 * the next `up` know the namespace is oob's, also after an oob killed between the two.
 */
export interface NsRecord {
  version: 1;
  profile: string;
  /** The network namespace (inode) oob ran in when it created the namespace. */
  hostNetns: string;
  at: string;
}

export const readNsRecord = (file: string) => readVersionedJson<NsRecord>(file, 1);
