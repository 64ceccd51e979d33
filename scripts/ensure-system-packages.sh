#!/usr/bin/env bash
# Installs the Debian packages trajforge runs with, when they are missing:
# chromium (the browser tools drive /usr/bin/chromium), bubblewrap (the bwrap sandbox),
# and what the built-in tasks use inside the sandbox: git, and pytest for Debian's python3.
# chromium-headless-shell is wanted, not needed: the browser tools use it when installed (the same
# pages for about 40% less CPU per action); where apt has no such package, chromium serves.
set -euo pipefail

need=()
wanted=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/lib/chromium/chromium-headless-shell ] || wanted+=(chromium-headless-shell)
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
command -v git >/dev/null 2>&1 || need+=(git)
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import pytest" 2>/dev/null || need+=(python3 python3-pytest)
[ ${#need[@]} -eq 0 ] && [ ${#wanted[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    [ ${#need[@]} -gt 0 ] && echo "warning: ${need[*]} missing and no apt-get here; install them with your package manager" >&2
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
else
    [ ${#need[@]} -gt 0 ] && echo "warning: ${need[*]} missing; run: sudo apt-get install ${need[*]}" >&2
    exit 0
fi
apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing Debian packages: ${need[*]}"
    "${apt[@]}" update -qq
    "${apt[@]}" install -y -qq --no-install-recommends "${need[@]}" >/dev/null
elif ! "${apt[@]}" update -qq >/dev/null 2>&1; then
    exit 0  # offline, or apt not usable: what is wanted only waits for another install
fi
if [ ${#wanted[@]} -gt 0 ] && ! "${apt[@]}" install -y -qq --no-install-recommends "${wanted[@]}" >/dev/null 2>&1; then
    echo "note: ${wanted[*]} is not available here; the browser tools use /usr/bin/chromium" >&2
fi
