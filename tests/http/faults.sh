#!/bin/bash
# SPDX-License-Identifier: MIT
# http backend: every fault kind of the fake hub is recovered by retries
# (on the batch check, the blob PUT, the commit and the listing); a
# persistent 500 on the commit ends with exit 1 and no commit.
. "$(dirname "$0")/lib.sh" "$@"

start_hub
n=0

# scenario NAME FAULT [mspublish args...]: fresh repo and fresh blobs
# (the hub deduplicates globally), one fault, a successful verified run.
scenario() {
    local name=$1 fault=$2
    shift 2
    n=$((n + 1))
    local M=$T/m$n
    mkdir -p "$M/sub"
    printf '{"scenario": "%s"}\n' "$name" > "$M/config.json"
    head -c 1200000 /dev/urandom > "$M/model.safetensors"
    head -c 5000 /dev/urandom > "$M/sub/w.bin"
    restart_hub --fault "$fault"
    ms "$name" --repo-id "alice/f$n" --model-dir "$M" --retries 3 \
        --timeout 2 --jobs 2 "$@"
    expect_rc 0 "$name"
    local faults
    faults=$(python3 - "$HUB_LOG" "$LOG_MARK" <<'PY'
import json, sys
n = 0
for i, l in enumerate(open(sys.argv[1])):
    if i >= int(sys.argv[2]) and json.loads(l).get("fault"):
        n += 1
print(n)
PY
)
    # a delayed request is logged only when the hub gets to it: the
    # client's own "timed out" line proves it instead
    if [ "$faults" -ge 1 ] || grep -q 'timed out: nothing moved' \
            "$T/out/$name.err"; then
        ok "$name: the fault fired ($faults)"
    else
        not_ok "$name: the fault never fired"
    fi
    expect_err "$name" 'retrying in'
    expect_count "$name: one commit landed" 1 POST '/commit/master$' 200
    verify "$name" "alice/f$n" "$M"
}

BATCH='POST:/api/v1/repos/*/info/lfs/objects/batch'
PUT='PUT:/lfs-upload/*'
COMMIT='POST:/api/v1/repos/*/commit/*'
LIST='GET:/api/v1/models/*/repo/files'

scenario batch-500 "$BATCH:status=500"
scenario batch-429 "$BATCH:status=429:retry_after=1"
expect_err batch-429 'HTTP 429: .*retrying in 1\.0 s'
scenario batch-html "$BATCH:html=502"
scenario batch-drop "$BATCH:drop:times=2"
scenario put-503 "$PUT:status=503:retry_after=0"
scenario put-reset "$PUT:reset=65536"
scenario put-reset0 "$PUT:reset=0:times=2"
scenario put-delay "$PUT:delay=4"
scenario put-malformed "$PUT:malformed=500"
scenario commit-500 "$COMMIT:status=500"
scenario commit-refs400 "$COMMIT:refs=400"
scenario commit-refs500 "$COMMIT:refs=500:times=2"
scenario commit-409 "$COMMIT:status=409"
scenario commit-malformed "$COMMIT:malformed=502"
scenario commit-drop "$COMMIT:drop:times=2"
scenario list-500 "$LIST:status=500"
scenario list-garbled "$LIST:malformed=200"
scenario batch-garbled "$BATCH:malformed=200"

# a persistent 500 on the commit: exit 1, nothing committed
M=$T/persist
mkdir -p "$M"
printf '{"persist": 1}\n' > "$M/config.json"
head -c 1100000 /dev/urandom > "$M/w.safetensors"
restart_hub --fault "$COMMIT:status=500:times=always"
ms persist --repo-id alice/persist --model-dir "$M" --retries 2
expect_rc 1 persist
expect_err persist 'HTTP 500: injected fault: HTTP 500 \(request id [0-9a-f]+\) \(gave up after 3 attempts\)'
expect_count "persist: 3 commit attempts" 3 POST '/commit/'
expect_count "persist: none succeeded" 0 POST '/commit/' 200
check "persist: no commit in the repo" test "$(commits_on alice/persist)" = 0

finish
