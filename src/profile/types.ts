import type { Cidr } from '../net/addr.js';

export type NicSelector = { kind: 'name'; name: string } | { kind: 'mac'; mac: string };

export interface InterfaceConfig {
  nic: NicSelector;
  /** Empty: adopt the NIC's current host addresses. */
  addresses: Cidr[];
  /** At most one per family. Empty with no addresses: adopt the host's gateway through the NIC. */
  gateways: string[];
  mtu?: number;
}

export interface DnsConfig {
  nameservers: string[];
  search: string[];
  options: string[];
}

export type Ready = { kind: 'tcp'; port: number } | { kind: 'pidfile' } | { kind: 'none' };
export type RestartPolicy = 'always' | 'on-failure' | 'no';

export interface ServiceConfig {
  name: string;
  exec: string[];
  /** Commands run in the namespace, in order, before each start (a config check): one failing fails the service, without restarts. */
  prestart: string[][];
  pidfile?: string;
  user?: string;
  group?: string;
  env: Record<string, string>;
  ready: Ready;
  restart: RestartPolicy;
  restartDelayMs: number;
  restartDelayMaxMs: number;
  stopSignal: string;
  stopTimeoutMs: number;
}

export interface NamespaceConfig {
  /** Leave the network up when the supervisor stops (default: bring it down). */
  keepOnStop: boolean;
}

export interface Profile {
  name: string;
  file: string;
  iface: InterfaceConfig;
  dns?: DnsConfig;
  namespace: NamespaceConfig;
  services: ServiceConfig[];
}
