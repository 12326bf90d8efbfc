#!/bin/bash
# SPDX-License-Identifier: MIT
# http backend: publish, verify byte for byte, re-run, change one file,
# --path-in-repo, --revision, --include/--exclude, --delete.
. "$(dirname "$0")/lib.sh" "$@"

start_hub
M=$T/model
make_model "$M"
before=$(snap "$M")

# 1. first publish of a new repo: created private, everything verified
mark_log
ms first --repo-id alice/demo --model-dir "$M" -m "first upload" --verbose
expect_rc 0 first
expect_err first 'Created private repository alice/demo'
expect_err first 'Verified 10 files on the hub'
expect_out first 'Upload finished'
expect_err first '^\* HTTP PUT .*/lfs-upload/[0-9a-f]{64}.* -> 200 \(request id [0-9a-f]{32}, [0-9.]+ s\)'
expect_err first '^\* HTTP POST .*/commit/master -> 200'
verify first alice/demo "$M"
check "repo was created private (Visibility 1)" \
    grep -q '"Visibility": 1' "$T/hub/repos/alice/demo.git/fakehub.json"
expect_count "one LFS batch request" 1 POST '^/api/v1/repos/.*/batch$'
expect_count "4 blob PUTs (3 MiB, 1.5 MiB, .bin, 0-byte .safetensors)" \
    4 PUT '^/lfs-upload/'
expect_count "one commit" 1 POST '/commit/master$' 200
check "one commit on master" test "$(commits_on alice/demo)" = 1
check "every request carried Bearer and the m_session_id cookie" \
    python3 - "$HUB_LOG" <<'PY'
import json, sys
bad = [r["path"] for r in map(json.loads, open(sys.argv[1]))
       if r["path"].startswith(("/api/", "/lfs-upload/"))
       and (r["auth_kinds"] != ["bearer", "cookie"] or not r["auth_ok"])]
print("# without both:", bad[:5]) if bad else None
sys.exit(1 if bad else 0)
PY
check "the model folder was not written" test "$(snap "$M")" = "$before"

# 2. re-run: nothing uploaded, no commit
mark_log
ms rerun --repo-id alice/demo --model-dir "$M" --json
expect_rc 0 rerun
expect_err rerun 'Nothing to upload: alice/demo is up to date\.'
check "rerun --json says up_to_date" grep -q '"up_to_date":true' \
    "$T/out/rerun.out"
check "rerun: 2 requests in all (login, listing)" \
    grep -q '"http":{"requests":2,"retries":0}' "$T/out/rerun.out"
expect_count "rerun: no PUT" 0 PUT '.'
expect_count "rerun: no commit" 0 POST '/commit/'
expect_count "rerun: no batch request" 0 POST '^/api/v1/repos/.*/batch$'
check "still one commit on master" test "$(commits_on alice/demo)" = 1

# 3. change one small and one big file: only they are sent
printf '{"architectures": ["Demo"], "hidden_size": 128}\n' \
    > "$M/config.json"
head -c 3145728 /dev/urandom > "$M/model.safetensors"
mark_log
ms change --repo-id alice/demo --model-dir "$M" --json
expect_rc 0 change
check "change: files_sent 2" grep -q '"files_sent":2' "$T/out/change.out"
check "change: files_unchanged 8" grep -q '"files_unchanged":8' \
    "$T/out/change.out"
expect_count "change: exactly one PUT" 1 PUT '^/lfs-upload/'
expect_count "change: one commit" 1 POST '/commit/master$' 200
verify change alice/demo "$M"

# 4. --path-in-repo into the same repo, on a new branch (--revision)
mark_log
ms prefix --repo-id alice/demo --model-dir "$M" --path-in-repo sub/dir \
    --revision dev
expect_rc 0 prefix
expect_count "prefix: commit to dev" 1 POST '/commit/dev$' 200
expect_count "prefix: no commit to master" 0 POST '/commit/master$'
expect_count "prefix: blobs deduplicated (no PUT)" 0 PUT '.'
verify prefix alice/demo "$M" sub/dir --revision dev --allow-extra
check "master still has 2 commits" test "$(commits_on alice/demo)" = 2

# 5. --include / --exclude
mark_log
ms filter --repo-id alice/filtered --model-dir "$M" --include '*.json' \
    --include '*.txt' --exclude 'sub/*'
expect_rc 0 filter
verify filter alice/filtered "$M" --ignore '*.safetensors' \
    --ignore '*.bin' --ignore 'sub/*' --ignore README.md
expect_count "filter: no PUT (only small files)" 0 PUT '.'

# 6. --delete removes remote orphans under the prefix, in the last commit
M2=$T/model2
cp -a "$M" "$M2"
rm "$M2/README.md" "$M2/sub/adapter.bin"
mark_log
ms delete --repo-id alice/demo --model-dir "$M2" --delete --json
expect_rc 0 delete
check "delete: files_deleted 2" grep -q '"files_deleted":2' \
    "$T/out/delete.out"
expect_count "delete: one commit" 1 POST '/commit/master$' 200
verify delete alice/demo "$M2"

# without --delete, orphans stay
M3=$T/model3
cp -a "$M2" "$M3"
rm "$M3/tokenizer.json"
ms nodelete --repo-id alice/demo --model-dir "$M3"
expect_rc 0 nodelete
expect_err nodelete 'Nothing to upload'
verify nodelete alice/demo "$M3" --allow-extra

# --delete with --path-in-repo only touches files under the prefix, on a
# branch with a '/' in its name
M5=$T/model5
cp -a "$M3" "$M5"
ms pfx1 --repo-id alice/pfx --model-dir "$M5" --path-in-repo a/b \
    --revision feature/x
expect_rc 0 pfx1
ms pfx-root --repo-id alice/pfx --model-dir "$M5" --revision feature/x
expect_rc 0 pfx-root
rm "$M5/config.json"
ms pfx2 --repo-id alice/pfx --model-dir "$M5" --path-in-repo a/b \
    --revision feature/x --delete --json
expect_rc 0 pfx2
check "pfx2: exactly one file deleted" grep -q '"files_deleted":1' \
    "$T/out/pfx2.out"
verify pfx2 alice/pfx "$M5" a/b --revision feature/x --allow-extra
check "pfx2: the root copy of config.json is still there" \
    git --git-dir="$T/hub/repos/alice/pfx.git" cat-file -e \
    feature/x:config.json
check "pfx2: a/b/config.json is gone" \
    test "$(git --git-dir="$T/hub/repos/alice/pfx.git" ls-tree \
        feature/x a/b/config.json)" = ""

# 7. --visibility public on creation, --no-create on an existing repo
ms public --repo-id alice/open --model-dir "$M3" --visibility public \
    --license mit
expect_rc 0 public
expect_err public 'Created public repository alice/open \(license mit\)'
check "alice/open is public" grep -q '"Visibility": 5' \
    "$T/hub/repos/alice/open.git/fakehub.json"

finish
