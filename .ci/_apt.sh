# Sourced by the .ci/install-*.sh scripts: `apt_setup NAME PACKAGES` sets SUDO (empty as root,
# "sudo -n" with passwordless sudo) or exits 1 saying how to install PACKAGES by hand, then
# refreshes apt's package lists.
apt_setup() {
    local name=$1 packages=$2
    if [ "$(id -u)" = 0 ]; then
        SUDO=""
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "$name: not root and no passwordless sudo; install $packages yourself" \
             "(apt-get install $packages)" >&2
        exit 1
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "$name: no apt-get here; install $packages yourself" >&2
        exit 1
    fi
    echo "$name: installing $packages (Debian packages)" >&2
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
}
