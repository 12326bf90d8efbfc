#!/bin/bash
# SPDX-License-Identifier: MIT
# The dryrun backend through the real binary: plan, hashes, cache, batches,
# filters, symlink errors, warnings, no network, folder untouched, no token
# anywhere.  TAP output.
set -u

BIN=${MSPUBLISH_BIN:?MSPUBLISH_BIN must point at the built mspublish}
T=$(mktemp -d "${TMPDIR:-/tmp}/mspublish-dryrun-XXXXXX")
LISTENER_PID=
cleanup() {
	[ -n "$LISTENER_PID" ] && kill "$LISTENER_PID" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

export HOME=$T/home XDG_CACHE_HOME=$T/cache XDG_CONFIG_HOME=$T/config
export MSPUBLISH_CONFIG=/dev/null
unset MODELSCOPE_API_TOKEN MODELSCOPE_TOKEN MODELSCOPE_ENDPOINT \
	MODELSCOPE_DOMAIN REPO_ID MODEL_DIR MSPUBLISH_BACKEND MSPUBLISH_PROFILE \
	MSPUBLISH_PLUGIN_DIR MODELSCOPE_HOME
mkdir -p "$HOME"
SENTINEL="ms-SENTINEL-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"

n=0
failed=0
# check NAME COMMAND...: one TAP line from the command's exit status
check() {
	local name=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		failed=$((failed + 1))
	fi
}

# run NAME ARGS...: run mspublish, keeping stdout, stderr and exit status
run() {
	local name=$1
	shift
	"$BIN" "$@" >"$T/out.$name" 2>"$T/err.$name"
	echo $? >"$T/rc.$name"
}
rc_of() { cat "$T/rc.$1"; }
# json NAME EXPR: evaluate a Python expression over the JSON on stdout (j)
json() {
	python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$T/out.$1" "$2"
}

# A model folder, aged so that the hash cache trusts it.
M=$T/model
mkdir -p "$M/sub dir" "$M/.git" "$M/.cache"
printf '{"model_type": "qwen3"}' >"$M/config.json"
printf '{"x": 1}' >"$M/tokenizer_config.json"
head -c 2500000 /dev/urandom >"$M/model.safetensors"
printf 'ü' >"$M/sub dir/ü.txt"
: >"$M/empty"
printf '[core]' >"$M/.git/config"
printf 'c' >"$M/.cache/x"
find "$M" -exec touch -h -d '-1 hour' {} +
listing() {
	(cd "$1" && find . -printf '%p %s %T@ %y\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0 sha256sum)
}
listing "$M" >"$T/before"

# 1. the plan in prose
run plan --backend dryrun --model-dir "$M" --repo-id a/b --token "$SENTINEL" \
	--commit-message "first plan"
check "plan exits 0" [ "$(rc_of plan)" = 0 ]
check "plan lists the five files, ignores .git and .cache" \
	[ "$(grep -c '^  \(lfs\|normal\) ' "$T/out.plan")" = 5 ]
check "safetensors is lfs" grep -q '^  lfs *2500000  model.safetensors$' \
	"$T/out.plan"
check "unicode name with a space" grep -q 'normal *2  sub dir/ü.txt$' \
	"$T/out.plan"
check "totals line" grep -q '^Totals: 5 file(s), 2500033 bytes; lfs: 1 file(s), 2500000 bytes; normal: 4 file(s), 33 bytes$' \
	"$T/out.plan"
check "one commit with the configured message" \
	grep -q '^  1/1 "first plan": 5 file(s), config.json .. tokenizer_config.json$' \
	"$T/out.plan"
check "no hashes without --hash" bash -c "! grep -q sha256 '$T/out.plan'"

# 2. --hash --json: digests equal sha256sum, and go to the cache
run hash1 --backend dryrun --hash --json --model-dir "$M" --repo-id a/b \
	--token "$SENTINEL" -m "my message"
check "hash run exits 0" [ "$(rc_of hash1)" = 0 ]
want=$(cd "$M" && sha256sum empty model.safetensors "sub dir/ü.txt" |
	awk '{print $1}' | tr '\n' ' ')
check "JSON plan digests equal sha256sum" json hash1 "
' '.join(f['sha256'] for f in j['plan']['files'] if f['path'] in
  ('model.safetensors', 'sub dir/ü.txt', 'empty')) + ' ' == '''$want'''"
check "JSON plan: paths sorted, modes, totals" json hash1 "
[f['path'] for f in j['plan']['files']] == ['config.json', 'empty',
  'model.safetensors', 'sub dir/ü.txt', 'tokenizer_config.json'] and
[f['mode'] for f in j['plan']['files']].count('lfs') == 1 and
j['plan']['totals']['bytes'] == 2500033 and j['plan']['hashed']"
check "first run hashed every file" json hash1 "
not any(f['cached'] for f in j['plan']['files'])"
check "commit message in the plan" json hash1 "
j['plan']['commits'] == [{'message': 'my message', 'files': 5,
  'first': 'config.json', 'last': 'tokenizer_config.json'}]"
check "nothing printed in prose with --json" \
	bash -c "! grep -q '^Plan:' '$T/out.hash1'"
run hash2 --backend dryrun --hash --json --model-dir "$M" --repo-id a/b \
	--token "$SENTINEL"
check "second run: every hash from the cache, none re-hashed" json hash2 "
all(f['cached'] for f in j['plan']['files']) and
j['plan']['totals']['hashes_from_cache'] == 5"
listing "$M" >"$T/after"
check "model folder identical after the first runs" cmp -s "$T/before" "$T/after"
touch -d '-30 minutes' "$M/config.json"
listing "$M" >"$T/before"
run hash3 --backend dryrun --hash --json --model-dir "$M" --repo-id a/b \
	--token "$SENTINEL"
check "a touched file is hashed again, the others cached" json hash3 "
[f['path'] for f in j['plan']['files'] if not f['cached']] == ['config.json']"
check "hash cache file is 0600, outside the folder" \
	[ "$(stat -c %a "$XDG_CACHE_HOME/mspublish/hashes.v1")" = 600 ]

# 3. path in repo, include, exclude (comma lists)
run filt --backend dryrun --json --model-dir "$M" --repo-id a/b \
	--path-in-repo /v1/ --include '*.json,*.txt' --exclude 'tok*'
check "include/exclude with comma lists and a path prefix" json filt "
[f['path'] for f in j['plan']['files']] == ['v1/config.json',
  'v1/sub dir/ü.txt']"

# 4. commit batches for 250 files: 64 per commit, 4 commits
B=$T/batches
mkdir -p "$B"
for i in $(seq -w 1 250); do printf '%s' "$i" >"$B/f$i.txt"; done
run batch --backend dryrun --model-dir "$B" --repo-id a/b -m msg
check "250 files make 4 commits" \
	grep -q '^Commits: 4 (up to 64 file(s) each)$' "$T/out.batch"
check "batch messages and bounds" bash -c "
grep -q '^  1/4 \"msg (batch 1/4)\": 64 file(s), f001.txt .. f064.txt$' '$T/out.batch' &&
grep -q '^  4/4 \"msg (batch 4/4)\": 58 file(s), f193.txt .. f250.txt$' '$T/out.batch'"

# 5. warnings: secrets by name, and --strict
S=$T/secrets
mkdir -p "$S/keys"
printf '{}' >"$S/config.json"
printf '{}' >"$S/tokenizer_config.json"
printf 'TOKEN=x' >"$S/.env"
printf 'k' >"$S/keys/id_rsa"
run sec --backend dryrun --model-dir "$S" --repo-id a/b
check "secret-looking files warned by name" bash -c "
[ \"\$(cat '$T/rc.sec')\" = 0 ] &&
grep -q 'WARNING: \".env\" looks like a secret' '$T/err.sec' &&
grep -q 'WARNING: \"keys/id_rsa\" looks like a secret' '$T/err.sec'"
run strict --backend dryrun --model-dir "$S" --repo-id a/b --strict
check "--strict turns the warning into exit 1" [ "$(rc_of strict)" = 1 ]
run secx --backend dryrun --model-dir "$S" --repo-id a/b \
	--exclude .env,'keys/*'
check "excluded secrets are not warned about" bash -c "
! grep -q 'looks like a secret' '$T/err.secx'"

# 6. symlinks
L=$T/links
mkdir -p "$L"
printf '{}' >"$L/config.json"
printf '{}' >"$L/tokenizer_config.json"
ln -s config.json "$L/alias.json"
run linkin --backend dryrun --json --model-dir "$L" --repo-id a/b
check "a link inside the folder is followed" json linkin "
[f['path'] for f in j['plan']['files']] == ['alias.json', 'config.json',
  'tokenizer_config.json']"
ln -s "$T/before" "$L/escape"
run linkout --backend dryrun --model-dir "$L" --repo-id a/b
check "a link outside the folder fails, naming it" bash -c "
[ \"\$(cat '$T/rc.linkout')\" = 1 ] && grep -q '\"escape\"' '$T/err.linkout'"
rm "$L/escape"
ln -s nowhere "$L/dangling"
run dangling --backend dryrun --model-dir "$L" --repo-id a/b
check "a dangling link fails, naming it" bash -c "
[ \"\$(cat '$T/rc.dangling')\" = 1 ] && grep -q '\"dangling\"' '$T/err.dangling'"
rm "$L/dangling"

# 7. an empty selection
run none --backend dryrun --model-dir "$M" --repo-id a/b --include '*.gguf'
check "nothing to upload fails" bash -c "
[ \"\$(cat '$T/rc.none')\" = 1 ] && grep -q 'no files to upload' '$T/err.none'"

# 8. no network: a listener on loopback records any connection
python3 "$(dirname "$0")/../tripwire.py" "$T/port" "$T/connections" &
LISTENER_PID=$!
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
run net --backend dryrun --hash --model-dir "$M" --repo-id a/b \
	--token "$SENTINEL" --endpoint "http://127.0.0.1:$(cat "$T/port")"
sleep 0.2
check "dryrun with an endpoint succeeds" [ "$(rc_of net)" = 0 ]
check "dryrun makes no connection" [ ! -e "$T/connections" ]

# 9. the folder is untouched, and the token appears nowhere
listing "$M" >"$T/after"
check "model folder identical after the later runs" cmp -s "$T/before" "$T/after"
check "sentinel token in no output and no written file" bash -c "
! grep -rsqF -- '$SENTINEL' '$T'/out.* '$T'/err.* '$XDG_CACHE_HOME' '$XDG_CONFIG_HOME' '$HOME' '$M'"

echo "1..$n"
[ "$failed" = 0 ]
