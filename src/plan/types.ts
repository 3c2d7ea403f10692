// A plan is a list of steps; each knows how to undo itself. Pure data: printing and applying
// are elsewhere.
import type { AddrInfo, Link, Route } from '../net/ipjson.js';

export type Step =
  | { kind: 'ip'; ns: string | null; args: string[]; title: string; undo: Step[] }
  | { kind: 'write'; path: string; content: string; mode: number; title: string; undo: Step[] }
  | { kind: 'remove'; path: string; dir?: boolean; title: string; undo: Step[] }
  | { kind: 'kill-ns-pids'; ns: string; title: string; undo: Step[] };

export interface NsView {
  links: Link[];
  routes: Route[];
}

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
    addrs: AddrInfo[];
    routes: Route[];
  };
  /** Addresses and gateways taken from the host when the profile gave none. */
  adopted?: { addresses: string[]; gateways: string[] };
  at: string;
}

export interface HostState {
  host: NsView;
  hostNetns: string;
  /** Named namespaces (in /run/netns). */
  namespaces: string[];
  /** The profile's namespace, if it exists. */
  ns?: NsView;
  record?: NicRecord;
  /** Current content of /etc/netns/NAME/resolv.conf, if any. */
  dnsFile?: string;
  /** From SSH_CONNECTION: the local address of the caller's SSH session and its client. */
  ssh?: { local: string; client: string };
}

export interface PlanPaths {
  recordFile: string;
  dnsFile: string;
  dnsDir: string;
}

export interface UpPlan {
  steps: Step[];
  /** Things a person should know (adopted addresses, kept namespace...). */
  notes: string[];
  nicName: string;
  addresses: string[];
  gateways: string[];
}

export const MARK = 'oob:';
export const markFor = (profile: string, origName: string) => `${MARK}${profile}:${origName}`;
