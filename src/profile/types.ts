import type { Cidr } from '../net/addr.js';
import type { LinksConfig } from './links.js';
import type { NatConfig } from './nat.js';

export type NicSelector = { kind: 'name'; name: string } | { kind: 'mac'; mac: string };

export interface InterfaceConfig {
  nic: NicSelector;
  /** Empty: adopt the NIC's current host addresses. */
  addresses: Cidr[];
  /** At most one per family. Empty with no addresses: adopt the host's gateway through the NIC. */
  gateways: string[];
  mtu?: number;
  /** `address = dhcp`: a supervised DHCPv4 client in the namespace adds the lease's address (profile/dhcp.ts). */
  dhcp4?: boolean;
  /** `address = dhcp6`: a supervised DHCPv6 client (dhcpcd) in the namespace adds the lease's address (profile/dhcp6.ts). */
  dhcp6?: boolean;
  /** `address = auto`: the kernel in the namespace takes addresses (SLAAC) and routes from router advertisements. */
  slaac?: boolean;
}

export interface DnsConfig {
  nameservers: string[];
  search: string[];
  options: string[];
}

export type Ready = { kind: 'tcp'; port: number } | { kind: 'pidfile' } | { kind: 'none' };
export type RestartPolicy = 'always' | 'on-failure' | 'no';

export interface FromUnit {
  unit: string;
  /** The line of `from =`, for messages. */
  line: number;
  /** The keys the section wrote itself: these win over the unit's settings. */
  written: string[];
  /** `args = ...`, appended to the unit's ExecStart. */
  args: string[];
}

export interface ServiceConfig {
  name: string;
  exec: string[];
  /** Commands run in the namespace, in order, before each start (a config check): one failing fails the service, without restarts. */
  prestart: string[][];
  /**
   * The pre-start commands need the namespace, not its addresses or routes (a preset says so: sshd's
   * directory and config check): the first start runs them while the network comes up (supervise/prestart.ts).
   */
  prestartBeforeUp?: boolean;
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
  /** `preset = NAME`: the preset whose defaults filled this section in (profile/presets.ts). */
  preset?: string;
  /** `from = UNIT.service`: copy that installed systemd unit (profile/units.ts fills exec and the rest in). */
  from?: FromUnit;
}

export interface NamespaceConfig {
  /** Leave the network up when the supervisor stops (default: bring it down). */
  keepOnStop: boolean;
}

export interface Profile {
  name: string;
  file: string;
  /** Absent: no physical NIC, the namespace is reached only through its [veth] (the tutorial's red and blue). */
  iface?: InterfaceConfig;
  dns?: DnsConfig;
  namespace: NamespaceConfig;
  services: ServiceConfig[];
  /** [veth] and [routes]: links besides the NIC (profile/links.ts). */
  links?: LinksConfig;
  /** [nat] and [forward]: masquerading and port forwards (profile/nat.ts). */
  nat?: NatConfig;
}

/** A profile with a physical NIC ([interface] nic =). */
export type NicProfile = Profile & { iface: InterfaceConfig };
export const hasNic = (p: Profile): p is NicProfile => p.iface !== undefined;
