#!/usr/bin/env bash
# Installs the Debian packages trajforge runs with, when they are missing:
# chromium (the browser tools drive /usr/bin/chromium), bubblewrap (the bwrap sandbox),
# and what the built-in tasks use inside the sandbox: git, and pytest for Debian's python3.
set -euo pipefail

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
command -v git >/dev/null 2>&1 || need+=(git)
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import pytest" 2>/dev/null || need+=(python3 python3-pytest)
[ ${#need[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "warning: ${need[*]} missing and no apt-get here; install them with your package manager" >&2
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
else
    echo "warning: ${need[*]} missing; run: sudo apt-get install ${need[*]}" >&2
    exit 0
fi
echo "installing Debian packages: ${need[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
