# SPDX-License-Identifier: MIT
# Shared set-up of the network benchmarks (bench/http.sh, bench/git.sh);
# sourced, not run.
#
#   bench_init NAME TOOL...   check $BIN and the tools, make the work dir $W,
#                             source the fake hub helpers, a cleanup trap,
#                             a sentinel $TOKEN, and a clean environment
#   bench_folder_a DIR        folder A: 4 x 256 MiB .safetensors + 20 JSON
#   bench_server_dir GIB      set $SRV, where the hub and the blob store keep
#                             their data: a tmpfs (/dev/shm) when it has GIB
#                             free, else $W/server; SERVER_DIR overrides
#   timed LABEL CMD...        one run; sets E (s), C (user+sys s), M (KiB)

TIME=/usr/bin/time

bench_init() {
	local name=$1 tool
	shift
	if [ ! -x "$BIN" ]; then
		echo "mspublish binary not found: $BIN (pass its path)" >&2
		exit 2
	fi
	case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
	for tool in "$@" python3 nginx "$TIME"; do
		if ! command -v "$tool" >/dev/null; then
			echo "missing tool: $tool (see scripts/debian-packages.txt)" >&2
			exit 2
		fi
	done
	SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	W=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/mspublish-bench-$name-XXXXXX")
	# shellcheck source=/dev/null
	. "$SRC/tests/fakehub/hub.sh"
	trap bench_cleanup EXIT
	TOKEN="ms-SENTINEL-bench-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
	export MSPUBLISH_CONFIG=/dev/null HOME=$W/home XDG_CONFIG_HOME=$W/home/.config
	unset MODELSCOPE_API_TOKEN MODELSCOPE_TOKEN MSPUBLISH_BACKEND REPO_ID MODEL_DIR \
		MODELSCOPE_HOME
	mkdir -p "$HOME"
}

bench_cleanup() {
	hub_stop
	blobstore_stop
	[ "${KEEP:-0}" = 1 ] || rm -rf "$W" ${SRV_TMP:+"$SRV_TMP"}
}

# The hub stands in for a remote service: what it writes should not put
# this machine's disk (writeback stalls of 0.1-1.5 s per 256 MiB were seen
# on the test VM) into the client's time, nor into the floor's.
bench_server_dir() {
	local free
	SRV=${SERVER_DIR:-}
	if [ -z "$SRV" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
		free=$(df -Pk /dev/shm | awk 'NR == 2 { print int($4 / 1048576) }')
		if [ "${free:-0}" -ge "$1" ]; then
			SRV_TMP=$(mktemp -d /dev/shm/mspublish-bench-XXXXXX)
			SRV=$SRV_TMP
		fi
	fi
	SRV=${SRV:-$W/server}
	mkdir -p "$SRV"
	echo "# hub and blob store data in $SRV"
}

bench_folder_a() {
	local i
	mkdir -p "$1"
	for i in 1 2 3 4; do
		dd if=/dev/urandom of="$1/model-0000$i-of-00004.safetensors" bs=4M \
			count=64 status=none
	done
	python3 - "$1" <<'PY'
import json, os, random, sys
random.seed(4)
for i in range(20):
    with open(os.path.join(sys.argv[1], "meta%02d.json" % i), "w") as f:
        json.dump({"i": i, "pad": "x" * random.randint(10, 4000)}, f)
PY
}

timed() {
	local label=$1 u s
	shift
	if ! "$TIME" -f '%e %U %S %M' -o "$W/time" "$@" >"$W/stdout" \
		2>"$W/stderr"; then
		echo "# $label failed:" >&2
		tail -n 20 "$W/stderr" >&2
		exit 2
	fi
	read -r E u s M <"$W/time"
	C=$(python3 -c "print('%.2f' % ($u + $s))")
	printf '  %-44s %7.2f s wall, %6.2f s CPU, %7d KiB max RSS\n' \
		"$label" "$E" "$C" "$M"
}
