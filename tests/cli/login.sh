#!/bin/bash
# SPDX-License-Identifier: MIT
# CLI against the fake hub (http backend): `mspublish login` stores the token
# 0600 only when the hub accepts it; logout; no token -> a warning, a try and
# the hint; --verbose traces of a real publish never show the token.
. "$(dirname "$0")/lib.sh"

TOP=${MSPUBLISH_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
if ! have_backend http || ! command -v git >/dev/null || [ ! -f "$TOP/tests/fakehub/hub.sh" ]; then
	echo "1..0 # SKIP needs the http backend and tests/fakehub"
	exit 77
fi
# shellcheck source=../fakehub/hub.sh
. "$TOP/tests/fakehub/hub.sh"
# the hub's own files live outside $T: its logs are not mspublish's output
H=$(mktemp -d "${TMPDIR:-/tmp}/ms-cli-hub.XXXXXX")
trap 'hub_stop; rm -rf "$T" "$H"' EXIT
hub_start "$H/hub" "$SENTINEL" >/dev/null || exit 1
export MODELSCOPE_ENDPOINT=$HUB_URL
STORE=$XDG_CONFIG_HOME/mspublish/login

# a wrong token: refused, nothing stored
run login-bad login --backend http --token "ms-wrong-token-$RANDOM"
expect_rc 1 "login with a wrong token"
has "$ERR" "ERROR: " "wrong token: an error line"
if [ ! -e "$STORE" ]; then ok 0 "wrong token: nothing stored"; else ok 1 "wrong token: nothing stored"; fi

# the right token: stored 0600
run login-ok login --backend http --token "$SENTINEL"
expect_rc 0 "login with the hub's token"
has "$OUT" "alice" "login names the user"
has "$OUT" "$STORE" "login names the file"
if [ -f "$STORE" ] && [ "$(stat -c %a "$STORE")" = 600 ]; then ok 0 "the stored login is mode 0600"; else ok 1 "the stored login is mode 0600"; fi
if [ "$(stat -c %a "$(dirname "$STORE")" 2>/dev/null)" = 700 ]; then ok 0 "its folder is mode 0700"; else ok 1 "its folder is mode 0700"; fi
SENTINEL_OK+=("$STORE")
if grep -qxF "$SENTINEL" "$STORE"; then ok 0 "the stored login holds the token"; else ok 1 "the stored login holds the token"; fi
run stored --show-config
if grep -qE "^token +set \(from $STORE\)$" "$OUT"; then ok 0 "the stored login is used: set (from $STORE)"; else ok 1 "the stored login is used: set (from $STORE)"; fi
MODELSCOPE_API_TOKEN=ms-env-wins-1234 run env-wins --show-config
if grep -qE "^token +set \(from MODELSCOPE_API_TOKEN\)$" "$OUT"; then ok 0 "MODELSCOPE_API_TOKEN beats the stored login"; else ok 1 "MODELSCOPE_API_TOKEN beats the stored login"; fi
run logout1 logout
expect_rc 0 "logout"
if [ ! -e "$STORE" ]; then ok 0 "logout removes the stored login"; else ok 1 "logout removes the stored login"; fi

# no token anywhere and nothing on stdin: refused
run login-none login --backend http
expect_rc 1 "login without any token"
has "$ERR" "no token" "login without a token says so"
if [ ! -e "$STORE" ]; then ok 0 "login without a token stores nothing"; else ok 1 "login without a token stores nothing"; fi

# the token on stdin (not on the command line)
printf '%s\n' "$SENTINEL" >"$H/stdin"
STDIN=$H/stdin run login-stdin login --backend http
expect_rc 0 "login reading the token from stdin"
if [ -f "$STORE" ] && grep -qxF "$SENTINEL" "$STORE"; then ok 0 "stdin token stored"; else ok 1 "stdin token stored"; fi
# logged in already, login again: the token typed on stdin is the one
# checked (this scratch dir's path has a '-' in it), not the stored one
printf 'ms-wrong-token-%s\n' "$RANDOM" >"$H/stdin"
STDIN=$H/stdin run login-again login --backend http
expect_rc 1 "login again checks the token typed on stdin"
if grep -qxF "$SENTINEL" "$STORE"; then ok 0 "a refused new token leaves the stored one"; else ok 1 "a refused new token leaves the stored one"; fi
run logout2 logout

# no token: a warning, the backend still tries, the hint on failure
M=$T/model
make_model "$M"
run no-token --backend http --repo-id alice/cli-demo --model-dir "$M" --retries 0
expect_rc 1 "publish without a token fails at the hub"
has "$ERR" "WARNING: no token" "no token: a warning"
has "$ERR" "ERROR: 上传失败: " "no token: the failure line"
has "$ERR" "MODELSCOPE_API_TOKEN" "no token: the hint names MODELSCOPE_API_TOKEN"
has "$ERR" "--token" "no token: the hint names --token"
if [ -s "$HUB_LOG" ]; then ok 0 "no token: the backend did try the hub"; else ok 1 "no token: the backend did try the hub"; fi

# a real publish with --verbose and --json: the token never shows
MODELSCOPE_API_TOKEN=$SENTINEL run verbose --backend http --repo-id alice/cli-demo \
	--model-dir "$M" --verbose
expect_rc 0 "publish with --verbose"
has "$OUT" "Upload finished." "publish: Upload finished."
has "$ERR" "* " "--verbose: request traces were printed (and are scanned below)"
if have_backend git; then
	MODELSCOPE_API_TOKEN=$SENTINEL run git-verbose --backend git --repo-id alice/cli-git \
		--model-dir "$M" --verbose
	expect_rc 0 "git backend publish with --verbose"
fi
MODELSCOPE_API_TOKEN=$SENTINEL run json --backend http --repo-id alice/cli-demo \
	--model-dir "$M" --json --verbose
expect_rc 0 "publish again with --json"
if python3 -c 'import json, sys; o = json.load(open(sys.argv[1])); assert o["status"] == "ok", o' "$OUT"; then ok 0 "--json: one valid object, status ok"; else ok 1 "--json: one valid object, status ok"; fi

finish
