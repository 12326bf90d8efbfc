#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark of `mspublish --backend dryrun --hash` against `openssl dgst
# -sha256` (not a test; run by hand, see the figures it prints).
#
#   bench/hash.sh [path/to/mspublish]      (default: build/core/mspublish)
#
# Makes a 2 GiB file and 4 files of 512 MiB from /dev/urandom in a temp dir
# (BENCH_DIR, default $TMPDIR or /tmp; needs 3 GiB free), warms the page
# cache by running each tool once, then times each case RUNS times (default
# 3) with /usr/bin/time and keeps the fastest run.  The hash cache is cleared
# before every mspublish run (a fresh XDG_CACHE_HOME), so every byte is
# hashed.  Goals (exit 1 if one is missed):
#   - one 2 GiB file: mspublish throughput >= 0.9 x openssl's;
#   - 4 x 512 MiB: mspublish faster than openssl on them one after another;
#   - peak RSS of mspublish < 32 MiB in both cases.
set -u

BIN=${1:-${MSPUBLISH_BIN:-build/core/mspublish}}
RUNS=${RUNS:-3}
TIME=/usr/bin/time
if [ ! -x "$BIN" ]; then
	echo "mspublish binary not found: $BIN (pass its path)" >&2
	exit 2
fi
for tool in openssl python3 "$TIME"; do
	if ! command -v "$tool" >/dev/null; then
		echo "missing tool: $tool (apt-get install time openssl python3)" >&2
		exit 2
	fi
done

W=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/mspublish-bench-XXXXXX")
trap 'rm -rf "$W"' EXIT
export MSPUBLISH_CONFIG=/dev/null HOME=$W/home
unset MODELSCOPE_API_TOKEN MODELSCOPE_TOKEN MSPUBLISH_BACKEND REPO_ID MODEL_DIR \
	MODELSCOPE_HOME
mkdir -p "$W/one" "$W/four" "$HOME"

echo "# making test data in $W (2 GiB + 4 x 512 MiB from /dev/urandom)"
dd if=/dev/urandom of="$W/one/big.bin" bs=4M count=512 status=none
for i in 1 2 3 4; do
	dd if=/dev/urandom of="$W/four/part$i.bin" bs=4M count=128 status=none
done
ONE=("$W/one/big.bin")
FOUR=("$W/four/part1.bin" "$W/four/part2.bin" "$W/four/part3.bin" "$W/four/part4.bin")

# timed KEY LABEL CMD...: one timed run; keeps per KEY the fastest elapsed
# time (E_KEY, s), the user+sys time of that run (C_KEY, s) and the largest
# max RSS (M_KEY, KiB).  The hash cache is removed first.
declare -A E C M
timed() {
	local key=$1 label=$2 e u s m
	shift 2
	rm -rf "$W/cache"
	if ! XDG_CACHE_HOME=$W/cache "$TIME" -f '%e %U %S %M' \
		-o "$W/time" "$@" >"$W/stdout.$key" 2>"$W/stderr"; then
		echo "# $label failed:" >&2
		cat "$W/stderr" >&2
		exit 2
	fi
	read -r e u s m <"$W/time"
	printf '  %-34s %6.2f s elapsed, %5.2f s user, %5.2f s sys, %6d KiB max RSS\n' \
		"$label" "$e" "$u" "$s" "$m"
	if [ -z "${E[$key]:-}" ] ||
		python3 -c "import sys; sys.exit(0 if $e < ${E[$key]} else 1)"; then
		E[$key]=$e
		C[$key]=$(python3 -c "print($u + $s)")
	fi
	[ "$m" -gt "${M[$key]:-0}" ] && M[$key]=$m
	return 0
}

MS=("$BIN" --backend dryrun --hash --repo-id a/b --quiet --json --model-dir)

echo "# warming the page cache: each tool runs once untimed"
openssl dgst -sha256 "${ONE[@]}" "${FOUR[@]}" >/dev/null
XDG_CACHE_HOME=$W/cache "${MS[@]}" "$W/one" >/dev/null 2>&1
XDG_CACHE_HOME=$W/cache "${MS[@]}" "$W/four" >/dev/null 2>&1

echo "# $(nproc) CPU(s), load average $(cut -d' ' -f1-3 /proc/loadavg)" \
	"(other work on the machine slows elapsed times);"
echo "# $RUNS rounds, the four cases interleaved in each; the fastest run"
echo "# of each case counts; all files in the page cache (warmed above)"
for r in $(seq "$RUNS"); do
	echo "# round $r"
	timed o1 "openssl dgst, 2 GiB" openssl dgst -sha256 "${ONE[@]}"
	timed m1 "mspublish dryrun --hash, 2 GiB" "${MS[@]}" "$W/one"
	timed o4 "openssl dgst, 4 x 512 MiB in turn" \
		openssl dgst -sha256 "${FOUR[@]}"
	timed m4 "mspublish dryrun --hash, 4 x 512" "${MS[@]}" "$W/four"
done
openssl dgst -sha256 -r "${ONE[@]}" "${FOUR[@]}" >"$W/openssl.txt"
cp "$W/stdout.m1" "$W/one.json"
cp "$W/stdout.m4" "$W/four.json"

# a re-run with the cache the last timed run left: nothing is re-hashed
XDG_CACHE_HOME=$W/cache "$TIME" -f '%e %M' -o "$W/time" "${MS[@]}" "$W/four" \
	>"$W/cached.json" 2>/dev/null
read -r cached_e cached_m <"$W/time"
cached_n=$(python3 -c '
import json, sys
print(json.load(open(sys.argv[1]))["plan"]["totals"]["hashes_from_cache"])' \
	"$W/cached.json")
echo "# re-run of 4 x 512 MiB with the hash cache: $cached_e s," \
	"$cached_m KiB max RSS, $cached_n of 4 digests from the cache"

# the digests must agree with openssl's, or the timings mean nothing
python3 - "$W" <<'EOF' || { echo "FAIL: digests differ from openssl's"; exit 1; }
import json, os, sys
w = sys.argv[1]
want = {}
for line in open(os.path.join(w, "openssl.txt")):
    digest, path = line.split(" ", 1)
    want[os.path.basename(path.strip().lstrip("*"))] = digest
for name in ("one.json", "four.json"):
    for f in json.load(open(os.path.join(w, name)))["plan"]["files"]:
        if f.get("sha256") != want[f["path"]]:
            sys.exit(1)
EOF
echo "# digests of all five files equal openssl's"

python3 - "${E[o1]}" "${E[m1]}" "${M[m1]}" "${E[o4]}" "${E[m4]}" \
	"${M[m4]}" "${C[o1]}" "${C[m1]}" "${C[o4]}" "${C[m4]}" "$cached_n" <<'EOF'
import sys
o1, m1, r1, o4, m4, r4, co1, cm1, co4, cm4, cached = map(float, sys.argv[1:])
ok = True
def goal(cond, text):
    global ok
    print(("PASS " if cond else "FAIL ") + text)
    ok = ok and cond
print("one 2 GiB file:  openssl %.2f s (%.0f MiB/s), mspublish %.2f s "
      "(%.0f MiB/s)" % (o1, 2048 / o1, m1, 2048 / m1))
print("4 x 512 MiB:     openssl in turn %.2f s (%.0f MiB/s), mspublish "
      "%.2f s (%.0f MiB/s)" % (o4, 2048 / o4, m4, 2048 / m4))
print("CPU time (user+sys) of those runs: one file openssl %.2f s, "
      "mspublish %.2f s; 4 files openssl %.2f s, mspublish %.2f s"
      % (co1, cm1, co4, cm4))
goal(o1 / m1 >= 0.9, "throughput ratio one file: %.2f (goal >= 0.90)" % (o1 / m1))
goal(m4 < o4, "4 files: mspublish/openssl time %.2f (goal < 1.00, "
     "speed-up %.2fx)" % (m4 / o4, o4 / m4))
goal(r1 < 32768, "peak RSS one file: %.1f MiB (goal < 32)" % (r1 / 1024))
goal(r4 < 32768, "peak RSS 4 files: %.1f MiB (goal < 32)" % (r4 / 1024))
goal(cached == 4, "cached re-run: %d of 4 files from the cache (goal 4)"
     % cached)
sys.exit(0 if ok else 1)
EOF
