// What oob reads from the host before it plans: the types. Pure data.
import type { Link, Route } from '../net/ipjson.js';
import type { NicRecord } from '../state/record.js';

/** A namespace's links (with their addresses) and routes of every table. */
export interface NsView {
  links: Link[];
  routes: Route[];
}

/** The caller's SSH session: its local address on this host and its client's address. */
export interface SshSession {
  local: string;
  client: string;
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
  /** Current content of /etc/netns/NAME/resolv.conf, if any. */
  dnsFile?: string;
  /** From SSH_CONNECTION: the local address of the caller's SSH session and its client. */
  ssh?: SshSession;
}

/** The host's side of an observation: shared by every profile of one call. */
export type HostObservation = Pick<Observation, 'host' | 'hostNetns' | 'namespaces' | 'ssh'>;
