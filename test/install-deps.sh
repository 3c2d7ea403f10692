#!/usr/bin/env bash
# What the tests need from Debian, on a fresh Debian 12 with Node 20, as root.
# openssh-server gives the tests a real sshd to run inside a namespace; prometheus-node-exporter and
# snmpd are the Debian services the tests copy with from = UNIT.service. policy-rc.d keeps their
# package scripts from starting them on this machine (the tests start their own copies).
# dpkg-dev, lintian, mandoc, groff, bash-completion and zsh check the Debian package, its man pages
# and its completions (test/integration/package.test.ts). ansible-core runs the Ansible role
# (test/integration/ansible.test.ts) and ansible-lint checks it. prometheus gives promtool, which checks
# oob's metrics (test/integration/metrics.test.ts); its server is not started (policy-rc.d) nor enabled.
# nftables: the seed's network (test/integration/links.test.ts).
# busybox is the udhcpc oob runs for address = dhcp; dnsmasq-base is the tests' DHCP server (run
# in a lab namespace only: the package starts no service).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
had_policy=0; [ -e /usr/sbin/policy-rc.d ] && had_policy=1
[ "$had_policy" = 1 ] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; }
trap '[ "$had_policy" = 1 ] || rm -f /usr/sbin/policy-rc.d' EXIT
apt-get install -y --no-install-recommends iproute2 util-linux openssh-server openssh-client python3 systemd systemd-container \
  prometheus-node-exporter snmpd dpkg-dev lintian mandoc groff bash-completion zsh ansible-core ansible-lint nftables \
  prometheus busybox dnsmasq-base dhcpcd-base
# their packages enable them for the next boot: the tests run their own copies, never the host's
systemctl disable prometheus-node-exporter.service snmpd.service prometheus.service >/dev/null 2>&1 || true
