#!/usr/bin/env bash
# Install the Debian packages that the tests use, when they are missing:
#
#   chromium, fonts-wqy-microhei  the browser tests drive /usr/bin/chromium through Playwright, whose
#                                 own browser download is not used. Without the font, Chinese text
#                                 renders as empty boxes in screenshots.
#   nginx                         the deployment tests run deploy/nginx.conf in front of two servers
#   systemd                       the deployment tests check deploy/taskdash.service with systemd-analyze
#
# Needs root (CI runs as root); otherwise it prints the command to run. Services that the packages
# bring are not started when /usr/sbin/policy-rc.d forbids it, as in container images.
set -euo pipefail

packages=(chromium fonts-wqy-microhei nginx systemd)
missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "up to date: ${packages[*]}"
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    echo "missing Debian packages: ${missing[*]}" >&2
    echo "install them with: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
fi

echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Keep nginx from starting as a system service on port 80: the tests start their own.
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
fi
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
