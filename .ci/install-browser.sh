#!/usr/bin/env bash
# Installs Debian's chromium and chromedriver for the report's headless-browser test
# (tests/report/test_browser.py) when they are missing. Debian packages only: the test never
# downloads a browser build of its own. Needs root (or sudo without a password).
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "install-browser: not root and no passwordless sudo; install chromium and" \
         "chromium-driver yourself (apt-get install chromium chromium-driver)" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-browser: no apt-get here; install chromium and chromedriver yourself" >&2
    exit 1
fi
echo "install-browser: installing chromium and chromium-driver (Debian packages)" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
command -v chromium >/dev/null && command -v chromedriver >/dev/null
