#!/usr/bin/env bash
# Installs Debian's PostgreSQL server when it is missing: the distributed-search tests
# (tests/test_distributed.py) start a throwaway cluster of it on loopback (initdb + pg_ctl in a
# temporary folder). No system service is started here. Needs root (or sudo without a password).
set -euo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null 2>&1
then
    exit 0
fi
if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "install-postgres: not root and no passwordless sudo; install PostgreSQL yourself" \
         "(apt-get install postgresql)" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-postgres: no apt-get here; install PostgreSQL (initdb, pg_ctl) yourself" >&2
    exit 1
fi
echo "install-postgres: installing postgresql (Debian package)" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# A policy-rc.d answering 101 keeps the package from starting a system-wide server.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
