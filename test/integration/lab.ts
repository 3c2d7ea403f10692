// The integration tests' lab, by job (the tests import everything from here):
//   lab/commands.ts    running commands (oob's own runner), oob's CLI path, isRoot
//   lab/namespaces.ts  the Lab: throw-away host, router and extra namespaces, snapshots of them,
//                      and the record of what the run made, for the root hook (hooks.ts)
//   lab/probes.ts      a listener, a client, an SSH banner, waitFor
//   lab/sshd.ts        the sshd fixture: host key, command line, needSshd()
//   lab/dnsmasq.ts     dnsmasq as the DHCP server in the router namespace
//   lab/image.ts       an image for enable --root, and the enable command line for it
//   lab/confirm.ts     the --confirm tests' NIC in the host, oob in the background, unit states
//   lab/supervisor.ts  oob run in the lab's host, its state and lease files
export * from './lab/commands.js';
export * from './lab/namespaces.js';
export * from './lab/probes.js';
export * from './lab/sshd.js';
export * from './lab/dnsmasq.js';
export * from './lab/image.js';
export * from './lab/confirm.js';
export * from './lab/supervisor.js';
