#!/bin/bash
# SPDX-License-Identifier: MIT
# http -> git -> http on one repo: every step verified with stock git +
# git-lfs, and each backend sees the other's result as up to date.
. "$(dirname "$0")/lib.sh" "$1"

M=$T/model
make_model "$M"
before=$(fingerprint "$M")
start_hub

ms_http h1 --repo-id alice/rt --model-dir "$M" --visibility public
expect_rc 0 h1
verify h1 alice/rt "$M"

mark_log
ms g0 --repo-id alice/rt --model-dir "$M"
expect_rc 0 g0
expect_err g0 'Nothing to upload: alice/rt is up to date\.'
expect_count "g0: git sees the http result as up to date: no push" 0 \
    POST 'git-receive-pack$'

# git: change a small file, replace an LFS file, add one, delete one
printf '{"architectures": ["Demo"], "hidden_size": 96}\n' > "$M/config.json"
head -c 2500000 /dev/urandom > "$M/model.safetensors"
head -c 1300000 /dev/urandom > "$M/sub/new weights.bin"
rm "$M/README.md"
mark_log
ms g1 --repo-id alice/rt --model-dir "$M" --delete
expect_rc 0 g1
expect_count "g1: two LFS objects PUT" 2 PUT '^/lfs-upload/'
verify g1 alice/rt "$M"

mark_log
ms_http h0 --repo-id alice/rt --model-dir "$M"
expect_rc 0 h0
expect_count "h0: http sees the git result as up to date: no commit" 0 \
    POST '/commit/'

# http again: a change on top of git's commit
printf '{"model_max_length": 256}\n' > "$M/tokenizer_config.json"
head -c 1100000 /dev/urandom > "$M/sub/adapter.bin"
ms_http h2 --repo-id alice/rt --model-dir "$M"
expect_rc 0 h2
verify h2 alice/rt "$M"

# and git once more: up to date with what http made
mark_log
ms g2 --repo-id alice/rt --model-dir "$M"
expect_rc 0 g2
expect_err g2 'Nothing to upload'
expect_count "g2: no push" 0 POST 'git-receive-pack$'
git --git-dir="$T/hub/repos/alice/rt.git" log --format=%s master \
    > "$T/out/rt-log.txt"
check "history: one linear history of 3 commits" \
    [ "$(wc -l < "$T/out/rt-log.txt")" = 3 ]
check "folder: not written" [ ! -e "$M/.git" ]
git_finish
