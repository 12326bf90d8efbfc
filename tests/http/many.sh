#!/bin/bash
# SPDX-License-Identifier: MIT
# http backend: 3,000 small files go up in sorted batch commits of the
# protocol's adaptive size (4.9), each "(batch i/N)", all verified.
. "$(dirname "$0")/lib.sh" "$@"

start_hub
M=$T/many
python3 - "$M" <<'PY'
import os, sys
root = sys.argv[1]
for i in range(3000):
    d = os.path.join(root, "shard%02d" % (i % 30))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%04d.json" % i), "wb") as f:
        f.write(os.urandom(512 + (i * 37) % 3000))
with open(os.path.join(root, "config.json"), "w") as f:
    f.write('{"files": 3000}\n')
PY
files=$(find "$M" -type f | wc -l)
# ms_commit_batch_size(3001) = clamp(3001 / 80, 64, 256) = 64
batches=$(( (files + 63) / 64 ))

mark_log
ms many --repo-id alice/many --model-dir "$M" -m "many files" --json
expect_rc 0 many
expect_count "many: $batches commits" "$batches" POST '/commit/master$' 200
expect_count "many: no PUT (all inline)" 0 PUT '.'
check "many: $batches commits on master" \
    test "$(commits_on alice/many)" = "$batches"
first=$(git --git-dir="$T/hub/repos/alice/many.git" log --reverse \
    --format=%s master | head -n 1)
check "many: first commit is batch 1/$batches ($first)" \
    test "$first" = "many files (batch 1/$batches)"
last=$(git --git-dir="$T/hub/repos/alice/many.git" log -1 --format=%s master)
check "many: last commit is batch $batches/$batches ($last)" \
    test "$last" = "many files (batch $batches/$batches)"
verify many alice/many "$M"

# the re-run lists the remote tree once and sends nothing
mark_log
ms many-rerun --repo-id alice/many --model-dir "$M"
expect_rc 0 many-rerun
expect_err many-rerun 'Nothing to upload'
expect_count "many-rerun: no commit" 0 POST '/commit/'
finish
