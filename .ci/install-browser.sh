#!/usr/bin/env bash
# Installs Debian's chromium and chromedriver for the report's headless-browser test
# (tests/report/test_browser.py) when they are missing. Debian packages only: the test never
# downloads a browser build of its own. Needs root (or sudo without a password).
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
    exit 0
fi
# shellcheck source=.ci/_apt.sh
source "$(dirname "$0")/_apt.sh"
apt_setup install-browser "chromium chromium-driver"
$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
command -v chromium >/dev/null && command -v chromedriver >/dev/null
