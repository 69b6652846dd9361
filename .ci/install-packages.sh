#!/usr/bin/env bash
# Installs the Debian packages the tests need on a fresh Debian 12 machine (root).
# The mail packages are taken exactly as mailwizard's own package step takes them on
# Debian 12: OpenSMTPD from bookworm-backports, opensmtpd-filter-rspamd 0.1.8 fetched
# once from trixie (not left as a source) and held. The lab's mx host sees them as
# installed (it shares /usr), so the wizard's package step finds nothing to do there.
# certbot, nginx (the ACME stage's) and pebble (the lab's ACME server, bookworm/main) for
# the ACME lane (test/lab/acme.test.ts).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

# The mirror serving bookworm itself: only real source lines (deb822 `URIs:` or one-line `deb`),
# never a comment (images often keep a commented snapshot address), never the security archive.
mirror=$( (cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null || true) \
  | sed -nE 's/^[[:space:]]*(URIs:[[:space:]]*|deb[[:space:]]+(\[[^]]*\][[:space:]]+)?)(https?:\/\/[^ ]+\/debian)\/?([[:space:]].*)?$/\3/p' \
  | grep -v -e security -e snapshot | head -n1 || true)
mirror=${mirror:-http://deb.debian.org/debian}

ours=/etc/apt/sources.list.d/ci-bookworm-backports.sources
if [ -f "$ours" ] && ! grep -q "URIs: $mirror\$" "$ours"; then rm -f "$ours"; fi
if ! grep -rqs '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$mirror" \
    > /etc/apt/sources.list.d/ci-bookworm-backports.sources
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends -t bookworm-backports opensmtpd >/dev/null
apt-get install -y -qq --no-install-recommends \
  dovecot-imapd dovecot-lmtpd rspamd nsd knot-dnsutils swaks tmux openssl iproute2 \
  ca-certificates python3 python3-dkim python3-dnspython python3-spf python3-aiosmtpd util-linux procps \
  debootstrap systemd-container curl >/dev/null
# The daemons of the later stages (ACME, defence, the daily check's cron) run only inside the lab: none may start on
# this machine when installed (nginx would take port 80, rsyslog /dev/log).
had_policy=0; [ -e /usr/sbin/policy-rc.d ] && had_policy=1
[ $had_policy = 1 ] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; }
apt-get install -y -qq --no-install-recommends \
  certbot nginx pebble redis-server dovecot-sieve fail2ban python3-systemd nftables rsyslog cron >/dev/null
[ $had_policy = 1 ] || rm -f /usr/sbin/policy-rc.d

if ! dpkg-query -W -f '${Version}' opensmtpd-filter-rspamd 2>/dev/null | grep -q '^0\.1\.[89]'; then
  d=$(mktemp -d)
  mkdir -p "$d/lists/partial" "$d/archives/partial"
  printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s trixie main\n' "$mirror" > "$d/sources.list"
  o=(-o "Dir::Etc::SourceList=$d/sources.list" -o Dir::Etc::SourceParts=/nonexistent -o "Dir::State::Lists=$d/lists" -o "Dir::Cache::Archives=$d/archives" -o APT::Sandbox::User=root)
  apt-get "${o[@]}" update -qq
  (cd "$d" && apt-get "${o[@]}" download opensmtpd-filter-rspamd >/dev/null)
  apt-get install -y -qq --no-install-recommends "$d"/opensmtpd-filter-rspamd_*.deb >/dev/null
  apt-mark hold opensmtpd-filter-rspamd >/dev/null
  rm -rf "$d"
fi
dpkg-query -W -f '${Package} ${Version}\n' opensmtpd opensmtpd-filter-rspamd dovecot-core rspamd nsd certbot nginx pebble
