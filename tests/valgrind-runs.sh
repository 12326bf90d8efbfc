#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Real runs of the binary under valgrind (memcheck): a dryrun with hashing
# of the example model, and publishes through each network backend to the
# fake hub.  Any error or definite leak fails.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$build/core/mspublish
work=$(mktemp -d)
token=ms-SENTINEL-valgrind-$RANDOM$RANDOM
export MSPUBLISH_CONFIG=/dev/null MSPUBLISH_NO_DLCLOSE=1 HOME=$work/home XDG_CACHE_HOME=$work/cache
mkdir -p "$HOME"
vg=(valgrind --quiet --leak-check=full --error-exitcode=3
	--errors-for-leak-kinds=definite,indirect --suppressions="$top/tests/valgrind.supp")
# shellcheck source=/dev/null
source "$top/tests/fakehub/hub.sh"
cleanup() { hub_stop >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
fail=0
run() {
	local name=$1; shift
	if "${vg[@]}" "$bin" "$@" >"$work/$name.out" 2>&1; then
		echo "ok - valgrind $name"
	else
		echo "not ok - valgrind $name"; cat "$work/$name.out"; fail=1
	fi
}
run dryrun --backend dryrun --hash --repo-id alice/demo --model-dir "$top/examples/tiny-model"
hub_start "$work/hub" "$token"
for b in http git; do
	[ -f "$build/plugins/modelscope-$b/$b.so" ] || continue
	run "$b" --backend "$b" --endpoint "$HUB_URL" --token "$token" \
		--repo-id "alice/vg-$b" --model-dir "$top/examples/tiny-model"
done
if grep -rq "$token" "$work"/*.out; then
	echo "not ok - the token leaked into output"; fail=1
fi
exit $fail
