#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install what mspublish needs to build and test (Debian 12, as root) and
# build it into ./build.  Safe to run again: it only does what is missing.
#   scripts/setup.sh [BUILD_DIR] [meson options...]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true

# Build: compiler, meson, the libraries.  Tests: git + git-lfs (the
# fake hub's git route and byte-for-byte verification), nginx-light (the
# object store), python3 (the fake hub), curl/openssl (benchmark floors),
# valgrind and GNU time (memory checks).  One list, shared with .ci/run.
mapfile -t packages < scripts/debian-packages.txt
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup: missing packages: ${missing[*]} (run as root, or apt-get install them)" >&2
		exit 1
	fi
	echo "setup: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# git-lfs's hooks and filters, for the tests' stock clones
git lfs install --skip-repo >/dev/null 2>&1 || true

if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$@" >/dev/null
elif [ $# -gt 0 ]; then
	meson configure "$build" "$@" >/dev/null
fi
ninja -C "$build" >/dev/null
echo "setup: built $build/core/mspublish"
