#!/bin/bash
# SPDX-License-Identifier: MIT
# git backend failures: wrong token (login and git), LFS PUT faults (retried,
# or a clear failure with the ref not moved), a failed push retried, the
# remote moving during the run (rebuilt once and pushed).
. "$(dirname "$0")/lib.sh" "$1"

M=$T/model
mkdir -p "$M"
printf '{"a": 1}\n' > "$M/config.json"
head -c 1500000 /dev/urandom > "$M/model.safetensors"
start_hub

# wrong token at login: exit 1 with the hint, nothing sent to git
WRONG="ms-WRONG-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
"$MS_BIN" --plugin-dir "$PLUGIN_DIR" --backend git --endpoint "$HUB_URL" \
    --token "$WRONG" --repo-id alice/faults --model-dir "$M" \
    > "$T/out/wrong.out" 2> "$T/out/wrong.err"
RC=$?
expect_rc 1 wrong
expect_err wrong 'token'
expect_count "wrong: no git request at all" 0 '*' '\.git/'
check "wrong: the wrong token is not printed" \
    bash -c "! grep -qF '$WRONG' '$T/out/wrong.out' '$T/out/wrong.err'"

# a repo that does not exist, with --no-create: exit 1, nothing created
ms nocreate --repo-id alice/absent --model-dir "$M" --no-create
expect_rc 1 nocreate
expect_err nocreate 'alice/absent does not exist.*--no-create'
check "nocreate: no repo appeared" [ ! -d "$T/hub/repos/alice/absent.git" ]

# credentials in --git-url are refused before any request
mark_log
ms urlcred --repo-id alice/faults --model-dir "$M" \
    --git-url "http://oauth2:$TOKEN@127.0.0.1:1"
expect_rc 1 urlcred
expect_err urlcred 'must not carry credentials'
expect_count "urlcred: no git request" 0 '*' '\.git/'

# the first real publish
ms first --repo-id alice/faults --model-dir "$M" --visibility public
expect_rc 0 first
tip=$(hub_ref alice/faults)

# wrong token at the git remote only (a second hub with another token
# behind --git-url): exit 1, the hint, no push, no endless auth loop
H2=$T/hub2
mkdir -p "$H2"
python3 "$FAKEHUB/fakehub.py" --port 0 --data "$H2" --token other-token \
    --log "$H2/requests.jsonl" > "$H2/out" 2> "$H2/err" &
H2_PID=$!
for _ in $(seq 1 100); do
    H2_URL=$(head -n 1 "$H2/out" 2>/dev/null)
    case $H2_URL in http://*) break ;; esac
    sleep 0.05
done
# a private repo there, so that even the fetch needs the credentials
curl -s -o /dev/null -X POST -H 'Authorization: Bearer other-token' \
    -H 'Content-Type: application/json' \
    -d '{"Path": "alice", "Name": "faults", "Visibility": 1}' \
    "$H2_URL/api/v1/models"
printf 'x\n' > "$M/new.txt"
ms gitauth --repo-id alice/faults --model-dir "$M" \
    --git-url "$H2_URL/alice/faults.git"
expect_rc 1 gitauth
expect_err gitauth 'refused the credentials.*token'
check "gitauth: a bounded number of requests to the remote" \
    [ "$(wc -l < "$H2/requests.jsonl")" -lt 10 ]
check "gitauth: nothing pushed (no successful receive-pack)" \
    bash -c "! grep 'git-receive-pack' '$H2/requests.jsonl' | grep -q '\"status\": 200'"
kill "$H2_PID" 2>/dev/null
wait "$H2_PID" 2>/dev/null
rm "$M/new.txt"

# LFS PUT fails once: retried, published
restart_hub --fault 'PUT:/lfs-upload/*:status=503:times=once'
head -c 1500000 /dev/urandom > "$M/model.safetensors"
ms put1 --repo-id alice/faults --model-dir "$M"
expect_rc 0 put1
expect_count "put1: the PUT was retried" 2 PUT '^/lfs-upload/'
verify put1 alice/faults "$M"
tip=$(hub_ref alice/faults)

# LFS PUT always fails: a clear failure, and the ref did not move
restart_hub --fault 'PUT:/lfs-upload/*:status=503:times=always'
head -c 1500000 /dev/urandom > "$M/model.safetensors"
ms putfail --repo-id alice/faults --model-dir "$M" --retries 1
expect_rc 1 putfail
expect_err putfail 'LFS upload of "model.safetensors".*503'
expect_count "putfail: no push" 0 POST 'git-receive-pack$'
check "putfail: the ref did not move" [ "$(hub_ref alice/faults)" = "$tip" ]

# the connection drops in the middle of the PUT: retried
restart_hub --fault 'PUT:/lfs-upload/*:reset=65536:times=once'
ms putreset --repo-id alice/faults --model-dir "$M"
expect_rc 0 putreset
verify putreset alice/faults "$M"
tip=$(hub_ref alice/faults)

# the push itself fails once (503): retried
restart_hub --fault 'POST:/*/git-receive-pack:status=503:times=once'
printf '{"a": 2}\n' > "$M/config.json"
ms push503 --repo-id alice/faults --model-dir "$M"
expect_rc 0 push503
expect_count "push503: receive-pack POSTed twice" 2 POST 'git-receive-pack$'
check "push503: one commit more" \
    [ "$(git --git-dir="$T/hub/repos/alice/faults.git" rev-parse master~1)" = "$tip" ]
verify push503 alice/faults "$M"

# the remote moves during the run (a concurrent push while our LFS batch
# is held back): fetched again, rebuilt, pushed on top
restart_hub --fault 'POST:/*/info/lfs/objects/batch:delay=3:times=once'
head -c 1500000 /dev/urandom > "$M/model.safetensors"
ms_bg moved --repo-id alice/faults --model-dir "$M" --verbose
# the tree is built (logged just before the LFS batch, which is held back)
wait_for "$T/out/moved.err" 'not read again'
(
    export GIT_CONFIG_GLOBAL=$T/other.gitconfig GIT_CONFIG_NOSYSTEM=1
    export GIT_TERMINAL_PROMPT=0 GIT_LFS_SKIP_SMUDGE=1 MODELSCOPE_API_TOKEN=$TOKEN
    git config --global credential.helper \
        '!f() { test "$1" = get || exit 0; echo username=oauth2; echo "password=$MODELSCOPE_API_TOKEN"; }; f'
    git config --global user.name other
    git config --global user.email other@localhost
    git clone -q "$HUB_URL/alice/faults.git" "$T/other" &&
    cd "$T/other" && printf 'concurrent\n' > OTHER.md &&
    git add OTHER.md && git commit -q -m concurrent && git push -q
) > "$T/out/other.log" 2>&1
check "moved: the concurrent push landed" [ $? = 0 ]
wait "$MS_PID"
RC=$?
expect_rc 0 moved
expect_err moved 'moved on the hub while publishing'
check "moved: OTHER.md kept" \
    git --git-dir="$T/hub/repos/alice/faults.git" cat-file -e master:OTHER.md
check "moved: our commit sits on the concurrent one" \
    [ "$(git --git-dir="$T/hub/repos/alice/faults.git" log -1 --format=%s master~1)" = concurrent ]
verify moved alice/faults "$M" --allow-extra
# Ctrl-C while the LFS batch is held back: exit 1, the ref did not move
tip=$(hub_ref alice/faults)
restart_hub --fault 'POST:/*/info/lfs/objects/batch:delay=4:times=once'
head -c 1500000 /dev/urandom > "$M/model.safetensors"
ms_bg cancel --repo-id alice/faults --model-dir "$M" --verbose
wait_for "$T/out/cancel.err" 'not read again'
sleep 0.5
kill -INT "$MS_PID"
wait "$MS_PID"
RC=$?
expect_rc 1 cancel
expect_err cancel 'cancelled'
expect_count "cancel: no push" 0 POST 'git-receive-pack$'
check "cancel: the ref did not move" [ "$(hub_ref alice/faults)" = "$tip" ]

# the hub refuses the push for another reason (its pre-receive hook says
# no): that reason, once; not "moved", no fetch-and-rebuild, no retry
restart_hub
hook=$T/hub/repos/alice/faults.git/hooks/pre-receive
cp "$hook" "$T/pre-receive.saved"
printf '#!/bin/sh\necho "protected branch: pushes are closed" >&2\nexit 1\n' >"$hook"
printf '{"a": 3}\n' > "$M/config.json"
ms declined --repo-id alice/faults --model-dir "$M"
expect_rc 1 declined
expect_err declined 'refused the push.*(declined|protected)'
check "declined: not reported as a moved branch" \
    bash -c "! grep -q 'moved' '$T/out/declined.err'"
expect_count "declined: one push" 1 POST 'git-receive-pack$'
check "declined: the ref did not move" [ "$(hub_ref alice/faults)" = "$tip" ]
cp "$T/pre-receive.saved" "$hook"
git_finish
