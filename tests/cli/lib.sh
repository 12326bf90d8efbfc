# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Sourced by tests/cli/*.sh: a private HOME and config/cache dirs, a clean
# environment, a sentinel token, `run` to call the binary with its outputs
# kept, TAP-style checks, and a final scan for the sentinel.
set -euo pipefail

: "${MSPUBLISH_BIN:?MSPUBLISH_BIN must name the built mspublish}"
BIN=$MSPUBLISH_BIN
T=$(mktemp -d "${TMPDIR:-/tmp}/ms-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
SENTINEL="ms-SENTINEL-$RANDOM$RANDOM"
# files allowed to hold the sentinel (the user asked to store it there)
SENTINEL_OK=()

unset REPO_ID MODEL_DIR MODELSCOPE_API_TOKEN MODELSCOPE_TOKEN MODELSCOPE_ENDPOINT \
	MODELSCOPE_DOMAIN MSPUBLISH_BACKEND MSPUBLISH_PROFILE MSPUBLISH_PLUGIN_DIR \
	MODELSCOPE_HOME
export HOME=$T/home XDG_CONFIG_HOME=$T/xdg XDG_CACHE_HOME=$T/cache
export MSPUBLISH_CONFIG=/dev/null
mkdir -p "$HOME" "$T/out"

tap_n=0
tap_failed=0

ok() { # ok COND-STATUS NAME: pass when the status is 0
	local st=$1
	shift
	tap_n=$((tap_n + 1))
	if [ "$st" -eq 0 ]; then
		echo "ok $tap_n - $*"
	else
		echo "not ok $tap_n - $*"
		tap_failed=$((tap_failed + 1))
	fi
}

check() { # check NAME -- COMMAND...: pass when the command succeeds
	local name=$1
	shift
	[ "$1" = "--" ] && shift
	if "$@" >/dev/null 2>&1; then ok 0 "$name"; else ok 1 "$name"; fi
}

# run NAME ARGS...: the binary's stdout, stderr and status in $T/out/NAME.{out,err,rc};
# $OUT, $ERR, $RC for the checks that follow.  Stdin is /dev/null unless $STDIN is set.
run() {
	local name=$1
	shift
	set +e
	"$BIN" "$@" >"$T/out/$name.out" 2>"$T/out/$name.err" <"${STDIN:-/dev/null}"
	RC=$?
	set -e
	echo "$RC" >"$T/out/$name.rc"
	OUT=$T/out/$name.out
	ERR=$T/out/$name.err
}

show() { # print a run's outputs as TAP comments (for failures)
	sed 's/^/#   out: /' "$OUT"
	sed 's/^/#   err: /' "$ERR"
	echo "#   rc: $RC"
}

expect_rc() { # expect_rc WANT NAME
	if [ "$RC" -eq "$1" ]; then ok 0 "$2: exit $1"; else ok 1 "$2: exit $1 (got $RC)"; show; fi
}

has() { # has FILE FIXED-STRING NAME
	if grep -qF -- "$2" "$1"; then ok 0 "$3"; else ok 1 "$3 (no \"$2\" in $(basename "$1"))"; show; fi
}

hasnt() { # hasnt FILE FIXED-STRING NAME
	if grep -qF -- "$2" "$1"; then ok 1 "$3 (\"$2\" in $(basename "$1"))"; show; else ok 0 "$3"; fi
}

empty() { # empty FILE NAME
	if [ -s "$1" ]; then ok 1 "$2 ($(basename "$1") not empty)"; show; else ok 0 "$2"; fi
}

# A model folder: config.json, tokenizer_config.json, a small weight file.
make_model() {
	mkdir -p "$1/sub dir"
	printf '{"model_type": "qwen3"}\n' >"$1/config.json"
	printf '{"model_max_length": 4096}\n' >"$1/tokenizer_config.json"
	head -c 70000 /dev/urandom >"$1/model.safetensors"
	printf 'hello\n' >"$1/sub dir/notes ü.txt"
	: >"$1/empty.txt"
}

# A checksum-and-mtime listing of a folder (the folder is only read).
listing() {
	(cd "$1" && find . -printf '%P %y %s %T@ %m\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}

have_backend() { # have_backend NAME: is it loadable?
	"$BIN" --list-backends 2>/dev/null | grep -q "^$1 "
}

# The sentinel must be nowhere under $T but in the files in SENTINEL_OK.
finish() {
	local f hits=()
	while IFS= read -r -d '' f; do
		local allowed=0 a
		for a in "${SENTINEL_OK[@]+"${SENTINEL_OK[@]}"}"; do
			[ "$f" = "$a" ] && allowed=1
		done
		[ "$allowed" -eq 1 ] || hits+=("$f")
	done < <(grep -rlZF -- "$SENTINEL" "$T" 2>/dev/null || true)
	if [ "${#hits[@]}" -eq 0 ]; then
		ok 0 "the sentinel token appears in no output and no file written"
	else
		ok 1 "the sentinel token leaked into: ${hits[*]#"$T"/}"
		for f in "${hits[@]}"; do grep -F -- "$SENTINEL" "$f" | sed 's/^/#   /' | head -5; done
	fi
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}
