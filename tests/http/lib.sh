# SPDX-License-Identifier: MIT
# Shared helpers of the http backend's integration tests (bash).
#
#   . lib.sh MSPUBLISH_BINARY
#
# Sets up a scratch dir ($T) with its own HOME and XDG_CACHE_HOME, a random
# sentinel token ($TOKEN), and helpers:
#   start_hub [fakehub args...]   fakehub on a free port (HUB_URL, HUB_LOG)
#   ms NAME [args...]             run mspublish --backend http against the
#                                 hub; stdout/stderr in $T/out/NAME.{out,err},
#                                 exit status in $RC
#   ok COND-DESCRIPTION / check CMD... / expect_rc N NAME
#   hub_count METHOD PATH-REGEX [STATUS]  requests in the hub log since the
#                                 last mark_log
#   verify FOLDER [PATH_IN_REPO] [verify.sh options]
#   finish                        sentinel scan of every output and every
#                                 file the runs wrote; exit status
set -u

MS_BIN=${1:?usage: $0 MSPUBLISH_BINARY}
case $MS_BIN in /*) ;; *) MS_BIN=$PWD/$MS_BIN ;; esac
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=${MSPUBLISH_TOP_SRCDIR:-$(cd "$HERE/../.." && pwd)}
FAKEHUB=$SRC/tests/fakehub
# The build tree of the binary holds the plugins.
BUILD=$(cd "$(dirname "$MS_BIN")/.." && pwd)
PLUGIN_DIR=$BUILD/plugins/modelscope-http

T=$(mktemp -d "${TMPDIR:-/tmp}/ms-httptest.XXXXXX")
mkdir -p "$T/out" "$T/home" "$T/cache"
TOKEN="ms-SENTINEL-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
export HOME=$T/home XDG_CACHE_HOME=$T/cache XDG_CONFIG_HOME=$T/home/.config
export MSPUBLISH_CONFIG=/dev/null
unset MODELSCOPE_API_TOKEN MODELSCOPE_TOKEN MODELSCOPE_ENDPOINT \
    MODELSCOPE_DOMAIN REPO_ID MODEL_DIR MSPUBLISH_BACKEND MSPUBLISH_PROFILE \
    MSPUBLISH_PLUGIN_DIR MODELSCOPE_HOME
FAILS=0
TESTS=0
LOG_MARK=0

. "$FAKEHUB/hub.sh"

cleanup() {
    hub_stop
    if [ "${KEEP:-0}" = 1 ] || [ "$FAILS" -ne 0 ]; then
        echo "# scratch kept in $T"
    else
        rm -rf "$T"
    fi
}
trap cleanup EXIT

ok() {
    TESTS=$((TESTS + 1))
    echo "ok $TESTS - $*"
}

not_ok() {
    TESTS=$((TESTS + 1))
    FAILS=$((FAILS + 1))
    echo "not ok $TESTS - $*"
}

# check DESCRIPTION CMD...: ok when CMD succeeds.
check() {
    local d=$1
    shift
    if "$@"; then ok "$d"; else not_ok "$d"; fi
}

show() {
    local n=$1
    echo "# --- $n: exit $RC; stderr:"
    sed 's/^/#   /' "$T/out/$n.err" | tail -n 25
    echo "# --- stdout:"
    sed 's/^/#   /' "$T/out/$n.out" | tail -n 10
}

# expect_rc N NAME: the last run exited with N.
expect_rc() {
    if [ "$RC" -eq "$1" ]; then
        ok "$2: exit $1"
    else
        not_ok "$2: exit $RC, expected $1"
        show "$2"
    fi
}

# expect_err NAME PATTERN: stderr of run NAME matches the ERE.
expect_err() {
    if grep -Eq -- "$2" "$T/out/$1.err"; then
        ok "$1: stderr matches /$2/"
    else
        not_ok "$1: stderr lacks /$2/"
        show "$1"
    fi
}

expect_out() {
    if grep -Eq -- "$2" "$T/out/$1.out"; then
        ok "$1: stdout matches /$2/"
    else
        not_ok "$1: stdout lacks /$2/"
        show "$1"
    fi
}

start_hub() {
    hub_start "$T/hub" "$TOKEN" "$@" || {
        echo "Bail out! fakehub did not start"
        exit 1
    }
    LOG_MARK=0
}

restart_hub() {
    hub_stop
    hub_start "$T/hub" "$TOKEN" "$@" || {
        echo "Bail out! fakehub did not restart"
        exit 1
    }
    mark_log
}

mark_log() {
    LOG_MARK=$(wc -l < "$HUB_LOG" 2>/dev/null || echo 0)
}

# hub_count METHOD PATH_REGEX [STATUS]: matching requests since mark_log.
hub_count() {
    python3 - "$HUB_LOG" "$LOG_MARK" "$1" "$2" "${3:-}" <<'PY'
import json, re, sys
log, mark, meth, rx, status = sys.argv[1:6]
n = 0
with open(log) as f:
    for i, line in enumerate(f):
        if i < int(mark):
            continue
        r = json.loads(line)
        if meth != "*" and r["method"] != meth:
            continue
        if not re.search(rx, r["path"]):
            continue
        if status and str(r["status"]) != status:
            continue
        n += 1
print(n)
PY
}

# expect_count DESC N METHOD PATH_REGEX [STATUS]
expect_count() {
    local d=$1 want=$2 got
    shift 2
    got=$(hub_count "$@")
    if [ "$got" = "$want" ]; then
        ok "$d ($got)"
    else
        not_ok "$d: $got requests $*, expected $want"
    fi
}

# MS_WRAP: a command prefix for every run (e.g. valgrind ...); a memory
# error then shows as exit status 3.
read -r -a MS_WRAP_ARGS <<< "${MS_WRAP:-}"

# ms NAME [args...]: one run against the hub, with the sentinel token.
ms() {
    local n=$1
    shift
    ${MS_WRAP_ARGS[@]+"${MS_WRAP_ARGS[@]}"} "$MS_BIN" --plugin-dir "$PLUGIN_DIR" --backend http \
        --endpoint "$HUB_URL" --token "$TOKEN" "$@" \
        > "$T/out/$n.out" 2> "$T/out/$n.err"
    RC=$?
}

# ms_raw NAME [args...]: same, without endpoint/token defaults.
ms_raw() {
    local n=$1
    shift
    ${MS_WRAP_ARGS[@]+"${MS_WRAP_ARGS[@]}"} "$MS_BIN" --plugin-dir "$PLUGIN_DIR" --backend http "$@" \
        > "$T/out/$n.out" 2> "$T/out/$n.err"
    RC=$?
}

# verify NAME REPO FOLDER [PATH_IN_REPO] [verify.sh options]
verify() {
    local n=$1
    shift
    if MODELSCOPE_API_TOKEN=$TOKEN bash "$FAKEHUB/verify.sh" "$HUB_URL" \
            "$@" > "$T/out/verify-$n.out" 2>&1; then
        ok "$n: verify.sh: $(tail -n 1 "$T/out/verify-$n.out")"
    else
        not_ok "$n: verify.sh failed"
        sed 's/^/#   /' "$T/out/verify-$n.out" | tail -n 20
    fi
}

# A commit count of a branch, from the hub's own git repository.
commits_on() {
    git --git-dir="$T/hub/repos/$1.git" rev-list --count "${2:-master}" \
        2>/dev/null || echo 0
}

# Model folder fixture: small JSON files, LFS files, nested folder, spaces,
# non-ASCII names, an empty file and a 0-byte lfs-suffixed file.
make_model() {
    local d=$1
    mkdir -p "$d/sub/deeper" "$d/with space"
    printf '{"architectures": ["Demo"], "hidden_size": 64}\n' \
        > "$d/config.json"
    printf '{"model_max_length": 128}\n' > "$d/tokenizer_config.json"
    printf '{"version": "1.0", "added_tokens": []}\n' > "$d/tokenizer.json"
    head -c 3145728 /dev/urandom > "$d/model.safetensors"
    head -c 1572864 /dev/urandom > "$d/sub/deeper/big.txt"
    head -c 4096 /dev/urandom > "$d/sub/adapter.bin"
    printf 'hello\n' > "$d/with space/ünïcødé 名前.txt"
    : > "$d/empty.txt"
    : > "$d/sub/empty.safetensors"
    printf 'readme\n' > "$d/README.md"
}

# Snapshot of a folder (names, sizes, mtimes) to prove it was not written.
snap() {
    (cd "$1" && find . -printf '%p %s %T@ %m\n' | LC_ALL=C sort)
}

# finish: the sentinel must appear nowhere in what the runs printed or
# wrote (the cache, HOME), then report.
finish() {
    local hits
    hits=$(grep -rlF -- "$TOKEN" "$T/out" "$T/cache" "$T/home" \
        ${EXTRA_SCAN:-} 2>/dev/null)
    if [ -z "$hits" ]; then
        ok "sentinel token appears in no output, cache or HOME file"
    else
        not_ok "sentinel token leaked into: $hits"
    fi
    echo "1..$TESTS"
    [ "$FAILS" -eq 0 ]
    exit $?
}
