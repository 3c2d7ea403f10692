// The integration tests' lab, by job (the tests import everything from here):
//   lab/commands.ts    running commands (oob's own runner), oob's CLI path, isRoot
//   lab/namespaces.ts  the Lab: throw-away host, router and extra namespaces, snapshots of them,
//                      and the record of what the run made, for the root hook (hooks.ts)
//   lab/probes.ts      a listener, a client, an SSH banner, waitFor
//   lab/sshd.ts        the sshd fixture: host key, command line, needSshd()
export * from './lab/commands.js';
export * from './lab/namespaces.js';
export * from './lab/probes.js';
export * from './lab/sshd.js';
