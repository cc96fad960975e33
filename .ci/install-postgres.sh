#!/usr/bin/env bash
# Installs Debian's PostgreSQL server when it is missing: the distributed-search tests start a
# throwaway cluster of it on loopback (initdb + pg_ctl in a temporary folder). No service is
# started or enabled here. Needs root (CI runs as root); as another user it only reports.
set -euo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "install-postgres: PostgreSQL is missing and this is not root; run: sudo apt-get install postgresql" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d 101: the package's post-install must not start a system-wide server.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -qq --no-install-recommends postgresql >/dev/null
echo "install-postgres: installed $(ls -d /usr/lib/postgresql/*/bin | head -1)"
