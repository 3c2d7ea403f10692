// `address = dhcp6`: the implicit service that runs a DHCPv6 client inside the namespace.
//
// The client is dhcpcd (Debian's dhcpcd-base), DHCPv6 only (ipv6only, noipv6rs: router
// advertisements are the kernel's, and only with `address = auto`), on the one NIC, in the
// foreground (-B) under the supervisor. dhcpcd's own paths are fixed at build time (/run/dhcpcd: pid
// file and control sockets; /var/lib/dhcpcd: leases, DUID): a second dhcpcd started under
// `ip netns exec` could talk to a dhcpcd of the host (dhcpcd#241) and would share its DUID and
// leases. So the wrapper, which `ip netns exec` runs in a private mount namespace of its own (mounts
// made there never reach the host), binds RUNTIME/NAME/dhcp6.run and dhcp6.db over those two
// directories before it execs dhcpcd: that dhcpcd sees only oob's files, and a dhcpcd of the host
// never sees them. Its configuration (-f) and its hook (-c, in place of dhcpcd-run-hooks and their
// resolv.conf hook) are oob's too. dhcpcd adds the lease's address (a /128 with the lease's
// lifetimes: DHCPv6 has no prefix length) and removes it at release and expiry; the hook records the
// lease for status and readiness and writes its name servers, merged with the DHCPv4 client's, in
// place into /etc/netns/NAME/resolv.conf. `release` in the configuration makes SIGTERM send a
// RELEASE. DHCPv6 gives no default route: it comes from the profile's gateway or from the
// router advertisements that `address = auto` accepts.
import {
  DHCP6_SERVICE,
  DHCPCD_DB_DIR,
  DHCPCD_RUN_DIR,
  dhcp4DnsPart,
  dhcp6Files,
  netnsDnsFile,
} from '../state/layout.js';
import { HOOK_FUNCTIONS } from './dhcp.js';
import type { ServiceConfig } from './types.js';

/** dhcpcd's configuration: DHCPv6 only, one IA_NA, a DUID from the MAC (stable across reboots: /run is not). */
export const DHCPCD_CONF = `# oob's dhcpcd configuration (DHCPv6 only, inside the namespace). Written by oob; do not edit.
ipv6only
noipv6rs
ia_na 1
duid ll
release
timeout 0
option dhcp6_name_servers, dhcp6_domain_search
`;

/** The hook dhcpcd runs (reason and the lease in its environment: new_dhcp6_ia_na1_ia_addr1, …). */
export const HOOK6_SCRIPT = `#!/bin/sh
# oob's dhcpcd hook: records the DHCPv6 lease inside the namespace only. Written by oob; do not edit.
${HOOK_FUNCTIONS}L="$OOB_LEASE"
old=""
[ -f "$L" ] && old=$(sed -n 's/^address=//p' "$L")
case "\${reason:-}" in
BOUND6|RENEW6|REBIND6|REBOOT6)
  a="\${new_dhcp6_ia_na1_ia_addr1:-}"
  [ -n "$a" ] || exit 0
  case "$a" in *[!0-9a-fA-F:.]*) echo "dhcp6: ignoring a lease address that is no IPv6 address" >&2; exit 0;; esac
  lt="\${new_dhcp6_ia_na1_ia_addr1_vltime:-}"
  case "$lt" in ''|*[!0-9]*) lt=0;; esac
  new="$a/128"
  [ -n "$old" ] && [ "$old" != "$new" ] && echo "dhcp6: $old replaced by $new" >&2
  lease_dns "\${new_dhcp6_name_servers:-}" "\${new_dhcp6_domain_search:-}"
  write_lease "$new" "\${new_dhcp6_server_id:-}" "" "\${new_dhcp6_name_servers:-}" "$lt"
  ;;
EXPIRE6|RELEASE6|STOP6|NAK6)
  rm -f "$L"
  if [ -f "$OOB_DNSPART" ]; then rm -f "$OOB_DNSPART"; merge_dns; fi
  ;;
esac
exit 0
`;

/**
 * Writes the hook and the configuration, finds the NIC by oob's mark, hides dhcpcd's built-in
 * directories behind oob's (in this private mount namespace only) and execs dhcpcd.
 */
const WRAPPER = `umask 022
mkdir -p "$OOB_RUNDIR" "$OOB_DBDIR" || exit 1
# dhcpcd runs its hook with an environment of its own making: the hook carries its settings itself
case "$OOB_LEASE$OOB_DNS$OOB_DNSFILE$OOB_DNSPART$OOB_DNSPARTS" in *"'"*) echo "dhcp6: a path with a quote in it" >&2; exit 1;; esac
{
  echo '#!/bin/sh'
  echo "OOB_LEASE='$OOB_LEASE' OOB_DNS='$OOB_DNS' OOB_DNSFILE='$OOB_DNSFILE' OOB_DNSPART='$OOB_DNSPART' OOB_DNSPARTS='$OOB_DNSPARTS'"
  printf '%s' "$OOB_DHCP_HOOK"
} > "$OOB_SCRIPT.new" && chmod 700 "$OOB_SCRIPT.new" && mv -f "$OOB_SCRIPT.new" "$OOB_SCRIPT" || exit 1
printf '%s' "$OOB_DHCPCD_CONF" > "$OOB_CONF.new" && mv -f "$OOB_CONF.new" "$OOB_CONF" || exit 1
IF=""
for d in /sys/class/net/*; do case "$(cat "$d/ifalias" 2>/dev/null)" in "$OOB_MARK"*) IF="\${d##*/}";; esac; done
[ -n "$IF" ] || { echo "dhcp6: no NIC marked $OOB_MARK in the namespace" >&2; exit 1; }
command -v dhcpcd >/dev/null || { echo "dhcp6: dhcpcd is not installed (oob's DHCPv6 client): apt install dhcpcd-base" >&2; exit 127; }
[ -d "$OOB_DHCPCD_DB" ] || { echo "dhcp6: $OOB_DHCPCD_DB is missing (dhcpcd-base installs it): apt install --reinstall dhcpcd-base" >&2; exit 127; }
# a dhcpcd killed with SIGKILL leaves its privilege-separation helpers behind, holding port 546: any
# dhcpcd in this namespace (oob's own) is a leftover of an earlier start. TERM, up to 2 s, then KILL.
self=$(readlink /proc/self/ns/net)
left=""
for p in /proc/[0-9]*; do
  [ "$(cat "$p/comm" 2>/dev/null)" = dhcpcd ] && [ "$(readlink "$p/ns/net" 2>/dev/null)" = "$self" ] && left="$left \${p#/proc/}"
done
if [ -n "$left" ]; then
  echo "dhcp6: stopping what an earlier dhcpcd left running:$left" >&2
  kill -TERM $left 2>/dev/null
  i=0
  while [ $i -lt 20 ]; do
    alive=""
    for p in $left; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ -n "$alive" ] || break
    sleep 0.1; i=$((i + 1))
  done
  kill -KILL $left 2>/dev/null
fi
# the mount point only (dhcpcd makes it itself when it runs on the host); what is bound over it is never seen outside
[ -d "$OOB_DHCPCD_RUN" ] || mkdir -m 755 "$OOB_DHCPCD_RUN" || exit 1
mount --bind "$OOB_RUNDIR" "$OOB_DHCPCD_RUN" && mount --bind "$OOB_DBDIR" "$OOB_DHCPCD_DB" || { echo "dhcp6: cannot hide dhcpcd's directories behind oob's" >&2; exit 1; }
exec dhcpcd -B -f "$OOB_CONF" -c "$OOB_SCRIPT" "$IF"`;

export function dhcp6Service(profile: string, runtimeDir: string, hasDns: boolean): ServiceConfig {
  const f = dhcp6Files(runtimeDir, profile);
  return {
    name: DHCP6_SERVICE,
    exec: ['/bin/sh', '-c', WRAPPER, 'oob-dhcp6'],
    prestart: [],
    env: {
      OOB_DHCP_HOOK: HOOK6_SCRIPT,
      OOB_DHCPCD_CONF: DHCPCD_CONF,
      OOB_SCRIPT: f.script,
      OOB_CONF: f.config,
      OOB_LEASE: f.leaseFile,
      OOB_RUNDIR: f.runDir,
      OOB_DBDIR: f.dbDir,
      OOB_DHCPCD_RUN: DHCPCD_RUN_DIR,
      OOB_DHCPCD_DB: DHCPCD_DB_DIR,
      OOB_MARK: `oob:${profile}:`,
      OOB_DNS: hasDns ? '0' : '1',
      OOB_DNSFILE: netnsDnsFile(profile),
      OOB_DNSPART: f.dnsPart,
      OOB_DNSPARTS: `${dhcp4DnsPart(runtimeDir, profile)} ${f.dnsPart}`,
    },
    ready: { kind: 'none' },
    restart: 'always',
    restartDelayMs: 500,
    restartDelayMaxMs: 30_000,
    // `release` in its configuration: on SIGTERM dhcpcd sends a RELEASE and removes the address
    stopSignal: 'SIGTERM',
    stopTimeoutMs: 5_000,
  };
}
