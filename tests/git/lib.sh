# SPDX-License-Identifier: MIT
# Helpers of the git backend's integration tests (bash): the http suite's
# lib.sh (scratch dir, sentinel token, hub, TAP helpers, finish), with
# `ms` switched to --backend git and a few git-specific checks.
#
#   . lib.sh MSPUBLISH_BINARY
#
#   ms NAME [args...]        mspublish --backend git against the hub (with
#                            the $MS_WRAP prefix of tests/http/lib.sh)
#   ms_bg NAME [args...]     ms in the background (MS_PID)
#   wait_for FILE ERE [SECS] until a line of FILE matches
#   ms_http NAME [args...]   mspublish --backend http against the hub
#   fingerprint DIR          names, sizes, mtimes, modes and SHA-256s
#   hub_ref REPO [BRANCH]    the branch's commit on the hub ("" if none)
#   hub_show REPO REV:PATH   a blob from the hub's own repository
GIT_TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../http/lib.sh
. "$GIT_TESTS_DIR/../http/lib.sh" "$1"
PLUGIN_DIR=$BUILD/plugins/modelscope-git:$BUILD/plugins/modelscope-http
# the Basic credential the git backend sends carries the token in base64
TOKEN_B64=$(printf 'oauth2:%s' "$TOKEN" | base64 -w0)
EXTRA_SCAN=${EXTRA_SCAN:-}

# ms_start BACKEND NAME [args...]: start one run against the hub, with
# the sentinel token; output in $T/out/NAME.{out,err}.  The callers wait.
ms_start() {
    local b=$1 n=$2
    shift 2
    ${MS_WRAP_ARGS[@]+"${MS_WRAP_ARGS[@]}"} "$MS_BIN" \
        --plugin-dir "$PLUGIN_DIR" --backend "$b" \
        --endpoint "$HUB_URL" --token "$TOKEN" "$@" \
        > "$T/out/$n.out" 2> "$T/out/$n.err" &
    MS_PID=$!
}

ms() {
    ms_start git "$@"
    wait "$MS_PID"
    RC=$?
}

# ms_bg NAME [args...]: like ms, in the background; MS_PID is mspublish
# itself (wait "$MS_PID"; RC=$?).
ms_bg() {
    ms_start git "$@"
}

ms_http() {
    ms_start http "$@"
    wait "$MS_PID"
    RC=$?
}

# wait_for FILE ERE [SECONDS]: until a line of FILE matches (default 30 s).
wait_for() {
    local i
    for i in $(seq 1 $((${3:-30} * 10))); do
        grep -Eq -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

fingerprint() {
    (cd "$1" && find . -printf '%p %s %T@ %m %y\n' | LC_ALL=C sort &&
        find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum)
}

hub_ref() {
    git --git-dir="$T/hub/repos/$1.git" rev-parse -q --verify \
        "refs/heads/${2:-master}" 2>/dev/null || true
}

hub_show() {
    git --git-dir="$T/hub/repos/$1.git" show "$2" 2>/dev/null
}

# git_finish: the sentinel (and its Basic form) nowhere, then finish.
git_finish() {
    local hits
    hits=$(grep -rlF -e "$TOKEN_B64" -e "oauth2:$TOKEN" "$T/out" \
        "$T/cache" "$T/home" 2>/dev/null)
    if [ -z "$hits" ]; then
        ok "the Basic credential appears in no output, cache or HOME file"
    else
        not_ok "the Basic credential leaked into: $hits"
    fi
    finish
}
