#!/usr/bin/env bash
# Installs Debian's chromium and chromium-driver for the agent page's browser
# test (tests/connect_local/test_agent_page_browser.py). Quick when they are
# already there. It never fails the CI: where they cannot be installed it says
# why, and that one test skips.
set -u

if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
    exit 0
fi

explain() {
    echo "install_browser: $1; the agent page browser test will skip." >&2
    exit 0
}

command -v apt-get >/dev/null 2>&1 || explain "no apt-get on this machine (install chromium and chromedriver yourself)"

as_root=()
if [ "$(id -u)" -ne 0 ]; then
    sudo -n true >/dev/null 2>&1 || explain "not root and no password-less sudo (run: sudo apt-get install -y chromium chromium-driver)"
    as_root=(sudo -n)
fi

export DEBIAN_FRONTEND=noninteractive
echo "install_browser: installing chromium and chromium-driver with apt-get" >&2
if ! "${as_root[@]}" apt-get install -y -q chromium chromium-driver >/dev/null; then
    # The package lists may be missing or stale; refresh them once and retry.
    "${as_root[@]}" apt-get update -q >/dev/null \
        && "${as_root[@]}" apt-get install -y -q chromium chromium-driver >/dev/null \
        || explain "apt-get could not install chromium and chromium-driver"
fi
