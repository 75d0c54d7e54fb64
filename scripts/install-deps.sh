#!/usr/bin/env bash
# Installs what perwatt needs to build, if it is missing: OpenBLAS (headers, library, pkg-config file)
# and pkg-config itself. With --test, also Chromium, which the tests use to render the HTML report.
# Debian/Ubuntu; uses sudo when not root. Safe to run again.
set -euo pipefail
packages=()
if ! { command -v pkg-config >/dev/null 2>&1 && pkg-config --exists openblas; }; then
    packages+=(libopenblas-dev pkg-config)
fi
if [ "${1:-}" = "--test" ] && ! command -v chromium >/dev/null 2>&1; then
    packages+=(chromium)
fi
if [ ${#packages[@]} -eq 0 ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "perwatt needs: ${packages[*]} (OpenBLAS with its pkg-config file; Chromium for the report tests);" >&2
    echo "this is not a Debian/Ubuntu system: install them with your package manager." >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "perwatt: installing ${packages[*]} (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${packages[@]}" >/dev/null
