// What oob reads from the host before it plans: the types. Pure data.
import type { Link, Route, Rule } from '../net/ipjson.js';
import type { NicRecord, NsRecord } from '../state/record.js';

/** A namespace's links (with their addresses) and routes of every table. */
export interface NsView {
  links: Link[];
  routes: Route[];
  /** Policy routing rules, both families (read for the host only; absent: the kernel's defaults). */
  rules?: Rule[];
}

/** The caller's SSH session: its local address on this host and its client's address (IPv4-mapped ones as IPv4). */
export interface SshSession {
  local: string;
  client: string;
  localPort?: number;
  clientPort?: number;
  /** How it was found: sshd's socket, from the process tree (pid of that sshd), or SSH_CONNECTION. */
  found?: { by: 'sshd'; pid: number } | { by: 'SSH_CONNECTION' };
}

/** Everything a planner needs to know about the host and one profile's namespace. */
export interface Observation {
  host: NsView;
  hostNetns: string;
  /** Named namespaces (in /run/netns). */
  namespaces: string[];
  /** The profile's namespace, if it exists. */
  ns?: NsView;
  /** The profile's /run/netns entry exists but is no namespace that can be read: why (one line). */
  nsStale?: string;
  record?: NicRecord;
  /** A profile without a NIC: oob's record that it created the namespace. */
  nsRecord?: NsRecord;
  /** Current content of /etc/netns/NAME/resolv.conf, if any. */
  dnsFile?: string;
  /** The caller's SSH session: found from the process tree (sudo drops SSH_CONNECTION), else SSH_CONNECTION. */
  ssh?: SshSession;
}

/** The host's side of an observation: shared by every profile of one call. */
export type HostObservation = Pick<Observation, 'host' | 'hostNetns' | 'namespaces' | 'ssh'>;
