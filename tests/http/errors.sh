#!/bin/bash
# SPDX-License-Identifier: MIT
# http backend: missing repo with/without --no-create, wrong token, no
# token, unreachable endpoint, a 4xx that must not be retried.
. "$(dirname "$0")/lib.sh" "$@"

start_hub
M=$T/model
make_model "$M"

# --no-create on a missing repo: refused, nothing created
mark_log
ms nocreate --repo-id alice/missing --model-dir "$M" --no-create
expect_rc 1 nocreate
expect_err nocreate 'alice/missing does not exist .*--no-create'
expect_count "nocreate: no create request" 0 POST '^/api/v1/models$'
expect_count "nocreate: no PUT" 0 PUT '.'
check "nocreate: no repo on the hub" test ! -e "$T/hub/repos/alice/missing.git"

# the same without --no-create: created (private), published
ms create --repo-id alice/missing --model-dir "$M"
expect_rc 0 create
expect_err create 'Created private repository alice/missing'
verify create alice/missing "$M"

# wrong token: exit 1 with the hint, nothing sent, nothing committed
WRONG="ms-SENTINEL-wrong-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
mark_log
ms_raw wrong --endpoint "$HUB_URL" --token "$WRONG" --repo-id alice/w \
    --model-dir "$M"
expect_rc 1 wrong
expect_err wrong 'refused the token'
expect_err wrong 'MODELSCOPE_API_TOKEN'
expect_count "wrong: no PUT" 0 PUT '.'
expect_count "wrong: no commit" 0 POST '/commit/'
check "wrong: no repo" test ! -e "$T/hub/repos/alice/w.git"
if grep -rlF -- "$WRONG" "$T/out" "$T/cache" "$T/home"; then
    not_ok "the wrong token leaked"
else
    ok "the wrong token appears in no output"
fi

# no token at all
mark_log
ms_raw notoken --endpoint "$HUB_URL" --repo-id alice/nt --model-dir "$M"
expect_rc 1 notoken
expect_err notoken '[Nn]o token|token'
expect_count "notoken: no PUT" 0 PUT '.'
expect_count "notoken: no commit" 0 POST '/commit/'

# unreachable endpoint: a port nobody listens on
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
t0=$(date +%s.%N)
ms_raw down --endpoint "http://127.0.0.1:$port" --token "$TOKEN" \
    --repo-id alice/down --model-dir "$M" --retries 2 --timeout 2
t1=$(date +%s.%N)
expect_rc 1 down
expect_err down '[Cc]ouldn.t connect|[Cc]onnection refused|connect'
expect_err down 'gave up after 3 attempts'
check "down: gave up within 10 s" \
    python3 -c "import sys; sys.exit(0 if $t1 - $t0 < 10 else 1)"

# a 400 on the commit is not retried and names Message and RequestId
restart_hub --fault 'POST:/api/v1/repos/*/commit/*:status=400:times=always'
M4=$T/model4
mkdir -p "$M4"
printf '{"x": 1}\n' > "$M4/config.json"
ms bad400 --repo-id alice/b400 --model-dir "$M4"
expect_rc 1 bad400
expect_count "bad400: exactly one commit attempt" 1 POST '/commit/'
expect_err bad400 'HTTP 400: injected fault: HTTP 400 \(request id [0-9a-f]{32}\)'

# a blob PUT refused before its body is read names the hub's answer, not
# a file that "changed"
restart_hub --fault 'PUT:/lfs-upload/*:status=413:times=always'
M5=$T/model5
mkdir -p "$M5"
printf '{"x": 1}\n' > "$M5/config.json"
# more than the 64 MiB the hub reads before it answers and hangs up
head -c 70000000 /dev/urandom > "$M5/w.safetensors"
ms put413 --repo-id alice/p413 --model-dir "$M5"
expect_rc 1 put413
expect_err put413 'HTTP 413'
check "put413: not blamed on the file" \
    bash -c "! grep -q 'chang' '$T/out/put413.err'"
check "put413: no commit" test "$(commits_on alice/p413)" = 0

finish
