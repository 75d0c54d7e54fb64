#!/usr/bin/env bash
# Installs what perwatt needs to build, if it is missing: OpenBLAS (headers, library, pkg-config file)
# and pkg-config itself. Debian/Ubuntu; uses sudo when not root. Safe to run again.
set -euo pipefail
if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists openblas; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "perwatt needs OpenBLAS with its pkg-config file (pkg-config --exists openblas), and pkg-config;" >&2
    echo "this is not a Debian/Ubuntu system: install them with your package manager." >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "perwatt: installing libopenblas-dev and pkg-config (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq libopenblas-dev pkg-config >/dev/null
