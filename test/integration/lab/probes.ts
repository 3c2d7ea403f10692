// Probes: a TCP listener in a namespace, a client that asks it from another, the first line of an
// SSH banner, and the wait for a condition (oob's own until(), with a message when time is up).
import { spawn } from 'node:child_process';
import { listeningPortsOf } from '../../../src/sys/proc.js';
import { until } from '../../../src/sys/until.js';
import { sh } from './commands.js';

/** A TCP listener in a namespace that answers with a fixed text; returns when it listens. */
export async function listen(ns: string, addr: string, port: number, text: string): Promise<void> {
  const code = `require('net').createServer(s=>s.end(${JSON.stringify(text)})).listen(${port},${JSON.stringify(addr)})`;
  // ip netns exec execs node in place: the child's pid is the listener's, its /proc/PID/net the namespace's
  const c = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { detached: true, stdio: 'ignore' });
  c.unref();
  const up = await until(async () => (await listeningPortsOf(c.pid!))?.includes(port), {
    intervalMs: 30,
    timeoutMs: 5000,
  });
  if (!up) throw new Error(`listener in ${ns} did not start`);
}

/** Connect from inside a namespace (via nsenter, a plain netns switch) and return what the peer says. */
export async function ask(ns: string, addr: string, port: number): Promise<string> {
  const code = `const s=require('net').connect(${port},${JSON.stringify(addr)});let b='';s.setTimeout(3000,()=>{process.stdout.write('TIMEOUT');process.exit(0)});s.on('data',d=>b+=d);s.on('end',()=>process.stdout.write(b));s.on('error',e=>process.stdout.write(e.code))`;
  return (await sh(['nsenter', `--net=/run/netns/${ns}`, '--', process.execPath, '-e', code])).stdout;
}

/** Connect from inside a namespace and return the first bytes the peer sends (an SSH banner), or the error code. */
export async function banner(ns: string, addr: string, port: number): Promise<string> {
  const code = `const s=require('net').connect(${port},${JSON.stringify(addr)});s.setTimeout(2000,()=>{process.stdout.write('TIMEOUT');process.exit(0)});s.once('data',d=>{process.stdout.write(String(d).split('\\n')[0]);process.exit(0)});s.on('error',e=>{process.stdout.write(e.code);process.exit(0)})`;
  return (await sh(['nsenter', `--net=/run/netns/${ns}`, '--', process.execPath, '-e', code])).stdout.trim();
}

/** The first truthy value fn gives, polled every 25 ms; throws naming `what` after ms. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const v = await until(async () => (await fn()) || undefined, { intervalMs: 25, timeoutMs: ms });
  if (v === undefined) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
  return v;
}
