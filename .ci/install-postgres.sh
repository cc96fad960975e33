#!/usr/bin/env bash
# Installs Debian's PostgreSQL server when it is missing: the distributed-search tests
# (tests/test_distributed.py) start a throwaway cluster of it on loopback (initdb + pg_ctl in a
# temporary folder). No system service is started here. Needs root (or sudo without a password).
set -euo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null 2>&1
then
    exit 0
fi
# shellcheck source=.ci/_apt.sh
source "$(dirname "$0")/_apt.sh"
apt_setup install-postgres "postgresql"
# A policy-rc.d answering 101 keeps the package from starting a system-wide server.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
