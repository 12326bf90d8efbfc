#!/bin/bash
# SPDX-License-Identifier: MIT
# CLI: the checks the seed fixes (repo id, folder) and argument errors.
# Each failure: exit 1, one "ERROR: 上传失败: <reason>" line, nothing sent.
. "$(dirname "$0")/lib.sh"

M=$T/model
make_model "$M"
export MODELSCOPE_API_TOKEN=$SENTINEL

# A tripwire "hub": records every connection; the checks below must make none.
python3 "$(dirname "$0")/../tripwire.py" "$T/hub.port" "$T/hub.log" &
HUB_PID=$!
trap 'kill $HUB_PID 2>/dev/null || true; rm -rf "$T"' EXIT
for _ in $(seq 50); do [ -s "$T/hub.port" ] && break; sleep 0.1; done
MODELSCOPE_ENDPOINT=http://127.0.0.1:$(cat "$T/hub.port")
export MODELSCOPE_ENDPOINT
: >"$T/hub.log"

fails_cleanly() { # fails_cleanly NAME REASON-FRAGMENT ARGS...: the seed's failure shape
	local name=$1 reason=$2
	shift 2
	run "$name" "$@"
	expect_rc 1 "$name"
	has "$ERR" "ERROR: 上传失败: " "$name: ERROR: 上传失败: prefix"
	has "$ERR" "$reason" "$name: names the problem ($reason)"
	hasnt "$ERR" "Publishing" "$name: stops before publishing"
	empty "$OUT" "$name: nothing on stdout"
}

# repo id: empty, unset, not owner/name (with the http backend, which would
# otherwise talk to the tripwire hub)
fails_cleanly empty-repo "repo id is empty" --backend http --repo-id "" --model-dir "$M"
fails_cleanly unset-repo "repo id is empty" --backend http --model-dir "$M"
REPO_ID="" fails_cleanly empty-env-repo "repo id is empty" --backend http --model-dir "$M"
fails_cleanly no-slash "OWNER/NAME" --backend http --repo-id justaname --model-dir "$M"
fails_cleanly two-slashes "OWNER/NAME" --backend http --repo-id a/b/c --model-dir "$M"
fails_cleanly no-owner "OWNER/NAME" --backend http --repo-id /name --model-dir "$M"
fails_cleanly no-name "OWNER/NAME" --backend http --repo-id owner/ --model-dir "$M"
fails_cleanly space-in-id "a b/c" --backend http --repo-id "a b/c" --model-dir "$M"
fails_cleanly dotdot-id "../x" --backend http --repo-id "../x" --model-dir "$M"
REPO_ID=bad fails_cleanly env-repo "OWNER/NAME" --backend http --model-dir "$M"

# the folder: missing, not a directory, not set
fails_cleanly missing-dir "does not exist" --backend http --repo-id a/b --model-dir "$T/nope"
fails_cleanly file-dir "is not a directory" --backend http --repo-id a/b \
	--model-dir "$M/config.json"
fails_cleanly unset-dir "model folder is not set" --backend http --repo-id a/b
MODEL_DIR="$T/nope-env" fails_cleanly env-missing-dir "nope-env" --backend http --repo-id a/b

# the backend name is checked before anything is loaded
fails_cleanly dotdot-backend "../x" --backend ../x --repo-id a/b --model-dir "$M"
fails_cleanly slash-backend "/tmp/evil" --backend /tmp/evil --repo-id a/b --model-dir "$M"
run unknown-backend --backend nosuch --repo-id a/b --model-dir "$M"
expect_rc 1 unknown-backend
has "$ERR" 'unknown backend "nosuch"' "unknown backend: named"
if have_backend dryrun; then
	has "$ERR" "dryrun" "unknown backend: the available ones are listed"
fi
if have_backend http; then
	has "$ERR" "http" "unknown backend: http listed"
fi

if [ -e "$XDG_CACHE_HOME" ] || [ -e "$XDG_CONFIG_HOME" ]; then
	ok 1 "the failing runs wrote no cache or config ($(find "$XDG_CACHE_HOME" "$XDG_CONFIG_HOME" 2>/dev/null | head -3))"
else
	ok 0 "the failing runs wrote no cache or config"
fi
if [ -s "$T/hub.log" ]; then
	ok 1 "no connection was made by any failing run ($(wc -l <"$T/hub.log"))"
else
	ok 0 "no connection was made by any failing run"
fi
# the tripwire works: a valid run does reach it (and fails there)
if have_backend http; then
	run control --backend http --repo-id a/b --model-dir "$M" --retries 0 --timeout 5
	expect_rc 1 "control run against the tripwire"
	if [ -s "$T/hub.log" ]; then ok 0 "control: a valid run does connect to the tripwire hub"; else ok 1 "control: a valid run does connect to the tripwire hub"; fi
fi

# usage errors: exit 1, an ERROR line, no stdout
for args in "--bogus" "-x" "stray-positional" "--repo-id a/b extra" "--jobs" "--jobs 0" \
	"--visibility open" "--retries -1"; do
	# shellcheck disable=SC2086
	run usage $args
	expect_rc 1 "usage error \"$args\""
	has "$ERR" "ERROR: " "usage error \"$args\": an ERROR line"
	empty "$OUT" "usage error \"$args\": nothing on stdout"
done
run unknown-flag --bogus
has "$ERR" "--bogus" "unknown flag: named"
run positional --repo-id a/b stray
has "$ERR" '"stray"' "positional argument: named"
# a mistyped --token=VALUE: named, the value never echoed (the final scan)
run typo-token "--tokn=$SENTINEL" --repo-id a/b
expect_rc 1 "--tokn=VALUE"
has "$ERR" '"--tokn"' "--tokn=VALUE: the option is named"

# --json: one JSON error object on stdout even when the settings are wrong
for args in "--jobs 0" "--config $T/missing.ini" "--bogus" "--repo-id bad"; do
	# shellcheck disable=SC2086
	run json-usage --json $args
	expect_rc 1 "--json $args"
	if python3 -c 'import json, sys; o = json.load(open(sys.argv[1])); assert o["status"] == "error" and o["error"]["message"], o' "$OUT"; then
		ok 0 "--json $args: a JSON error object on stdout"
	else
		ok 1 "--json $args: a JSON error object on stdout"
		show
	fi
done

# --help / -h / --version
run help --help
expect_rc 0 "--help"
for v in REPO_ID MODEL_DIR MODELSCOPE_API_TOKEN MODELSCOPE_TOKEN MODELSCOPE_ENDPOINT \
	MODELSCOPE_DOMAIN MSPUBLISH_BACKEND MSPUBLISH_CONFIG MSPUBLISH_PLUGIN_DIR \
	MSPUBLISH_PROFILE XDG_CONFIG_HOME XDG_CACHE_HOME; do
	has "$OUT" "$v" "--help lists $v"
done
# every variable the core reads (but HOME and the test-only switch)
if [ -n "${MSPUBLISH_TOP_SRCDIR:-}" ] && [ -d "$MSPUBLISH_TOP_SRCDIR/core" ]; then
	grep -ho 'getenv("[A-Z_]*")' "$MSPUBLISH_TOP_SRCDIR"/core/*.c |
		sed 's/getenv("\(.*\)")/\1/' | sort -u >"$T/getenv.txt"
	while read -r v; do
		case $v in HOME | MSPUBLISH_NO_DLCLOSE) continue ;; esac
		has "$OUT" "$v" "--help documents $v (read in core/)"
	done <"$T/getenv.txt"
fi
for f in --backend --repo-id --model-dir --token --commit-message --endpoint --revision \
	--path-in-repo --include --exclude --jobs --config --profile --show-config \
	--list-backends --json --quiet --verbose --strict --version --help; do
	has "$OUT" "$f" "--help lists $f"
done
run short-help -h
expect_rc 0 "-h"
lines=$(wc -l <"$OUT")
if [ "$lines" -le 40 ]; then ok 0 "-h fits in 40 lines ($lines)"; else ok 1 "-h fits in 40 lines ($lines)"; fi
has "$OUT" "--help" "-h points at --help"
run version --version
expect_rc 0 "--version"
if grep -qE '^mspublish [0-9]+\.[0-9]+\.[0-9]+' "$OUT"; then ok 0 "--version prints mspublish X.Y.Z"; else ok 1 "--version prints mspublish X.Y.Z"; fi
run version-short -V
expect_rc 0 "-V"

finish
