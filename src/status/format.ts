// The status table a person reads at a glance: coloured on a terminal, plain otherwise. Pure.
import type { Health, ProfileStatus, StatusReport } from './model.js';

export function duration(sec: number | null): string {
  if (sec === null) return '-';
  if (sec < 60) return `${sec}s`;
  if (sec < 3600) return `${Math.floor(sec / 60)}m${sec % 60 ? `${sec % 60}s` : ''}`;
  if (sec < 86400) return `${Math.floor(sec / 3600)}h${Math.floor((sec % 3600) / 60)}m`;
  return `${Math.floor(sec / 86400)}d${Math.floor((sec % 86400) / 3600)}h`;
}

const COLORS: Record<string, string> = { ok: '32', degraded: '33', down: '31', dim: '2', bold: '1' };

export function formatStatus(r: StatusReport, color: boolean): string {
  const c = (k: string, s: string) => (color ? `\x1b[${COLORS[k]}m${s}\x1b[0m` : s);
  const label = (h: Health) => c(h, h.toUpperCase());
  const lines: string[] = [];
  for (const p of r.profiles) {
    lines.push(
      `${c('bold', p.name)}  ${label(p.health)}  ${unitText(p)} · ${p.supervisor.running ? `supervisor pid ${p.supervisor.pid}` : 'no supervisor'}`,
    );
    const n = p.nic;
    lines.push(
      `  ${'nic'.padEnd(9)}${n.inNamespace ? `${n.name} ${n.mac} ${n.up ? 'up' : 'DOWN'} ${n.carrier ? 'carrier' : 'NO-CARRIER'} mtu ${n.mtu}` : n.leftInHost ? 'in the host, not in the namespace' : p.namespace.exists ? 'missing' : `- (no namespace ${p.name})`}`,
    );
    if (p.addresses.length || p.missingAddresses.length)
      lines.push(
        `  ${'address'.padEnd(9)}${[...p.addresses, ...p.missingAddresses.map((a) => `${a} MISSING`)].join(', ')}`,
      );
    for (const g of p.gateways)
      lines.push(
        `  ${'gateway'.padEnd(9)}${g.address} ${g.route ? 'default route' : 'NO ROUTE'}, neighbour ${g.neighbour ?? 'unknown (--probe asks)'}${g.probe === 'unanswered' ? ', NO ANSWER to the probe' : g.probe === 'static' ? ' (static, not probed)' : ''}`,
      );
    if (p.dns.expected)
      lines.push(`  ${'dns'.padEnd(9)}${p.dns.present ? 'resolv.conf in place' : 'resolv.conf MISSING'}`);
    if (p.dhcp)
      lines.push(
        `  ${'dhcp'.padEnd(9)}${p.dhcp.address ? `${p.dhcp.address} from ${p.dhcp.server ?? '?'}, obtained ${p.dhcp.obtained}, expires ${p.dhcp.expires}${p.dhcp.valid ? '' : ' NOT VALID'}` : 'NO LEASE'}`,
      );
    if (p.dhcp6)
      lines.push(
        `  ${'dhcp6'.padEnd(9)}${p.dhcp6.address ? `${p.dhcp6.address} from ${p.dhcp6.server ?? '?'}, obtained ${p.dhcp6.obtained}, expires ${p.dhcp6.expires}${p.dhcp6.valid ? '' : ' NOT VALID'}` : 'NO LEASE'}`,
      );
    if (p.slaac)
      lines.push(`  ${'slaac'.padEnd(9)}${p.slaac.addresses.length ? p.slaac.addresses.join(', ') : 'NO ADDRESS'}`);
    const w = Math.max(0, ...p.services.map((s) => s.name.length));
    for (const s of p.services) {
      const bits = [
        s.name.padEnd(w),
        s.ready ? 'ready' : s.phase,
        s.pid ? `pid ${s.pid}` : '',
        s.uptimeSec !== null ? `up ${duration(s.uptimeSec)}` : '',
        `restarts ${s.restarts}`,
        s.listening.length ? `listening ${s.listening.join(' ')}` : '',
        s.lastExit ? `last exit: ${s.lastExit.reason}` : '',
      ];
      lines.push(`  ${'service'.padEnd(9)}${bits.filter(Boolean).join('  ')}`);
    }
    if (p.pending)
      lines.push(
        `  ${'pending'.padEnd(9)}${p.pending.what} since ${p.pending.since}, ${p.pending.deadline ? `reverted at ${p.pending.deadline}` : p.pending.state} unless "oob confirm ${p.name}" ("oob revert ${p.name}" now)${p.pending.workerAlive ? '' : '; its worker is GONE'}`,
      );
    for (const pr of p.problems) lines.push(`  ${c(p.health, '!')} ${pr}`);
    lines.push('');
  }
  return lines.join('\n');
}

function unitText(p: ProfileStatus): string {
  if (!p.unit.systemd) return 'no systemd';
  return p.unit.enabled ? 'unit enabled' : 'unit NOT enabled';
}
