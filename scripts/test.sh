#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Set up (Debian packages, build) and run every test suite.
#   scripts/test.sh [BUILD_DIR] [meson options...]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bash scripts/setup.sh "$@"
meson test -C "$build" --num-processes 2 --print-errorlogs
