#!/bin/bash
# SPDX-License-Identifier: MIT
# git backend: fresh publish, unchanged re-run, one changed small file, one
# changed LFS file; the folder is never written; no token anywhere.
. "$(dirname "$0")/lib.sh" "$1"

M=$T/model
make_model "$M"
# old enough for the stat cache (files modified < 2 s ago are "racy")
find "$M" -type f -exec touch -d '-1 hour' {} +
before=$(fingerprint "$M")
start_hub

# 1. a fresh repo
ms fresh --repo-id alice/demo --model-dir "$M" --visibility public
expect_rc 0 fresh
check "fresh: one commit on master" [ "$(commits_on alice/demo)" = 1 ]
verify fresh alice/demo "$M"
attrs=$(hub_show alice/demo master:.gitattributes)
check "fresh: .gitattributes tracks model.safetensors" \
    grep -qxF '/model.safetensors filter=lfs diff=lfs merge=lfs -text' \
    <<< "$attrs"
check "fresh: .gitattributes tracks sub/deeper/big.txt (size rule)" \
    grep -qxF 'sub/deeper/big.txt filter=lfs diff=lfs merge=lfs -text' \
    <<< "$attrs"
check "fresh: the 0-byte .safetensors is a plain empty blob" \
    [ "$(hub_show alice/demo master:sub/empty.safetensors | wc -c)" = 0 ]
ptr=$(hub_show alice/demo master:model.safetensors)
check "fresh: model.safetensors is an LFS pointer" \
    grep -q '^oid sha256:[0-9a-f]\{64\}$' <<< "$ptr"
expect_count "fresh: 3 LFS objects PUT" 3 PUT '^/lfs-upload/'
tip1=$(hub_ref alice/demo)

# 2. unchanged: no push, no LFS traffic
mark_log
ms same --repo-id alice/demo --model-dir "$M" --verbose
expect_rc 0 same
# 7 normal files (6 small ones, 1 empty .safetensors): none read again
expect_err same ' 7 file\(s\) not read again: unchanged since the last run'
expect_err same 'Nothing to upload: alice/demo is up to date\.'
expect_count "same: no receive-pack POST" 0 POST 'git-receive-pack$'
expect_count "same: no LFS batch" 0 POST '/info/lfs/objects/batch$'
check "same: the ref did not move" [ "$(hub_ref alice/demo)" = "$tip1" ]

# 3. one small file changed: one commit, no LFS object
sleep 0.01
printf '{"architectures": ["Demo"], "hidden_size": 128}\n' > "$M/config.json"
before=$(fingerprint "$M")
mark_log
ms small --repo-id alice/demo --model-dir "$M"
expect_rc 0 small
check "small: exactly one more commit" [ "$(commits_on alice/demo)" = 2 ]
expect_count "small: no LFS PUT" 0 PUT '^/lfs-upload/'
expect_count "small: no LFS batch (no new pointer)" 0 POST \
    '/info/lfs/objects/batch$'
expect_count "small: one receive-pack POST" 1 POST 'git-receive-pack$' 200
changed=$(git --git-dir="$T/hub/repos/alice/demo.git" diff --name-only \
    master~1 master)
check "small: the commit changes config.json only" [ "$changed" = config.json ]
verify small alice/demo "$M"

# 4. one LFS file changed: only its object is sent
head -c 2097152 /dev/urandom > "$M/model.safetensors"
before=$(fingerprint "$M")
mark_log
ms big --repo-id alice/demo --model-dir "$M" --json --verbose
expect_rc 0 big
check "big: --json reports 1 object uploaded, 1 commit" python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
g = j["git"]
sys.exit(not (j["blobs_uploaded"] == 1 and len(j["commits"]) == 1 and
              g["branch"] == "master" and g["commit"] == j["commits"][0]
              and g["parent"] is not None and g["rebuilds"] == 0))' \
    "$T/out/big.out"
expect_err big 'HTTP POST http://127\.0\.0\.1:[0-9]+/alice/demo\.git/info/lfs/objects/batch -> 200'
expect_err big 'HTTP PUT http://127\.0\.0\.1:[0-9]+/lfs-upload/[0-9a-f]{64}.* -> 200'
expect_count "big: exactly one LFS PUT" 1 PUT '^/lfs-upload/'
check "big: exactly one more commit" [ "$(commits_on alice/demo)" = 3 ]
changed=$(git --git-dir="$T/hub/repos/alice/demo.git" diff --name-only \
    master~1 master)
check "big: the commit changes model.safetensors only" \
    [ "$changed" = model.safetensors ]
verify big alice/demo "$M"

# 5. the folder: untouched, no .git
after=$(fingerprint "$M")
check "folder: checksum+mtime listing identical before and after" \
    [ "$before" = "$after" ]
check "folder: no .git appeared" [ ! -e "$M/.git" ]
check "folder: no new file appeared" \
    [ -z "$(find "$M" -newer "$T/out/big.err" -print -quit)" ]

# 6. the cache repo: bare, reused, no credentials in its config
cache=$(find "$T/cache" -maxdepth 3 -name '*alice_demo.git' -type d)
check "cache: one bare repo under \$XDG_CACHE_HOME/mspublish/git" \
    test -n "$cache" -a -f "$cache/HEAD" -a ! -d "$cache/.git"
check "cache: the config holds no URL and no credentials" \
    bash -c "! grep -qiE 'url|oauth2|SENTINEL' '$cache/config'"
git_finish
