#!/bin/bash
# SPDX-License-Identifier: MIT
# http backend: kill -9 in the middle of a blob PUT and resume; Ctrl-C
# stops within a second and commits nothing; a file changed while it is
# uploaded fails the run naming it, with nothing committed.
. "$(dirname "$0")/lib.sh" "$@"

start_hub
M=$T/model
make_model "$M"
head -c 2200000 /dev/urandom > "$M/second.safetensors"

# wait_for FILE REGEX SECONDS
wait_for() {
    local i
    for i in $(seq 1 $(($3 * 20))); do
        grep -Eq -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# start_bg NAME REPO DIR [ARGS...]: mspublish in the background, output in
# $T/out/NAME.{out,err}, its pid in $pid
start_bg() {
    local name=$1 repo=$2 dir=$3
    shift 3
    "$MS_BIN" --plugin-dir "$PLUGIN_DIR" --backend http --endpoint "$HUB_URL" \
        --token "$TOKEN" --repo-id "$repo" --model-dir "$dir" "$@" \
        > "$T/out/$name.out" 2> "$T/out/$name.err" &
    pid=$!
}

# 1. kill -9 while the 2nd of 5 PUTs hangs (jobs 1: PUTs in order)
restart_hub --fault 'PUT:/lfs-upload/*:delay=30:nth=2'
start_bg killed alice/resume "$M" --jobs 1
if wait_for "$HUB_LOG" '"method": "PUT".*"status": 200' 20; then
    ok "killed: the first PUT completed"
else
    not_ok "killed: no PUT completed"
fi
sleep 0.5
{ kill -9 "$pid"; wait "$pid"; } 2>/dev/null
check "killed: no commit was made" test "$(commits_on alice/resume)" = 0
done_puts=$(hub_count PUT '^/lfs-upload/' 200)

restart_hub
ms resumed --repo-id alice/resume --model-dir "$M" --json
expect_rc 0 resumed
expect_count "resumed: only the missing blobs are PUT" \
    $((5 - done_puts)) PUT '^/lfs-upload/'
check "resumed: blobs_skipped counts the blob already sent" \
    grep -q "\"blobs_skipped\":$done_puts" "$T/out/resumed.out"
verify resumed alice/resume "$M"

# 2. Ctrl-C during a hanging PUT: out within a second, nothing committed
M2=$T/model2
mkdir -p "$M2"
printf '{"ctrl": "c"}\n' > "$M2/config.json"
head -c 4000000 /dev/urandom > "$M2/w.safetensors"
restart_hub --fault 'PUT:/lfs-upload/*:delay=30'
start_bg ctrlc alice/ctrlc "$M2"
wait_for "$T/out/ctrlc.err" 'LFS: 1 blob to upload' 20
sleep 0.5
t0=$(date +%s.%N)
kill -INT "$pid"
wait "$pid"
RC=$?
t1=$(date +%s.%N)
check "ctrlc: exit status is non-zero ($RC)" test "$RC" -ne 0
check "ctrlc: stopped within a second" \
    python3 -c "import sys; sys.exit(0 if $t1 - $t0 < 1.0 else 1)"
expect_err ctrlc 'nothing was committed'
expect_err ctrlc 'again to resume'
check "ctrlc: no commit" test "$(commits_on alice/ctrlc)" = 0

# 3. a blob grows while it is being sent
M3=$T/model3
mkdir -p "$M3"
printf '{"grow": 1}\n' > "$M3/config.json"
head -c 8000000 /dev/urandom > "$M3/grow.safetensors"
restart_hub --fault 'PUT:/lfs-upload/*:delay=2'
start_bg grow alice/grow "$M3"
wait_for "$T/out/grow.err" 'LFS: 1 blob to upload' 20
head -c 1000 /dev/urandom >> "$M3/grow.safetensors"
wait "$pid"
RC=$?
expect_rc 1 grow
expect_err grow 'grow\.safetensors.*chang|chang.*grow\.safetensors'
check "grow: no commit" test "$(commits_on alice/grow)" = 0

# 4. a small (inline) file rewritten after hashing, same size: the commit
#    body is checked against the hash while it streams
M4=$T/model4
mkdir -p "$M4"
printf '{"v": 1}\n' > "$M4/config.json"
head -c 1100000 /dev/urandom > "$M4/w.safetensors"
restart_hub --fault 'PUT:/lfs-upload/*:delay=2'
start_bg edit alice/edit "$M4"
wait_for "$T/out/edit.err" 'LFS: 1 blob to upload' 20
printf '{"v": 2}\n' > "$M4/config.json"
wait "$pid"
RC=$?
expect_rc 1 edit
expect_err edit 'config\.json.*chang'
check "edit: no commit" test "$(commits_on alice/edit)" = 0

finish
