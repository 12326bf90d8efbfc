# SPDX-License-Identifier: MIT
# fakehub helpers for bash tests.  Source this file, then:
#
#   hub_start DATA_DIR TOKEN [extra fakehub.py args...]
#       starts tests/fakehub/fakehub.py in the background on a free port and
#       waits for it; exports HUB_URL (http://127.0.0.1:PORT), HUB_PID,
#       HUB_DATA and HUB_LOG (the JSONL request log, DATA_DIR/requests.jsonl
#       unless a --log is given).  Its stdout/stderr go to DATA_DIR/hub.out
#       and DATA_DIR/hub.err.  Returns non-zero if it did not come up.
#   hub_stop
#       SIGTERM to HUB_PID and wait for it (safe to call twice / in a trap).
#   blobstore_start DIR
#       starts an nginx WebDAV blob store (blobstore.sh) in DIR; exports
#       BLOBSTORE_URL and BLOBSTORE_DIR.  Then pass
#       --blob-store-url "$BLOBSTORE_URL" --blob-store-dir "$BLOBSTORE_DIR"
#       to hub_start.
#   blobstore_stop
#
# Example:
#   . tests/fakehub/hub.sh
#   trap 'hub_stop; blobstore_stop' EXIT
#   hub_start "$tmp/hub" secret-token || exit 1
#   MODELSCOPE_ENDPOINT=$HUB_URL MODELSCOPE_API_TOKEN=secret-token ...

FAKEHUB_DIR=${FAKEHUB_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}

hub_start() {
    if [ $# -lt 2 ]; then
        echo "usage: hub_start DATA_DIR TOKEN [fakehub args...]" >&2
        return 2
    fi
    local data=$1 token=$2 i url=
    shift 2
    mkdir -p "$data" || return 1
    data=$(cd "$data" && pwd)
    HUB_LOG=$data/requests.jsonl
    local prev=
    for i in "$@"; do
        [ "$prev" = "--log" ] && HUB_LOG=$i
        case $i in --log=*) HUB_LOG=${i#--log=} ;; esac
        prev=$i
    done
    : > "$data/hub.out"
    python3 "$FAKEHUB_DIR/fakehub.py" --port 0 --data "$data" \
        --token "$token" --log "$data/requests.jsonl" "$@" \
        > "$data/hub.out" 2> "$data/hub.err" &
    HUB_PID=$!
    for i in $(seq 1 300); do
        url=$(head -n 1 "$data/hub.out" 2>/dev/null)
        case $url in http://*) break ;; esac
        url=
        if ! kill -0 "$HUB_PID" 2>/dev/null; then
            break
        fi
        sleep 0.05
    done
    if [ -z "$url" ]; then
        echo "hub_start: fakehub did not start:" >&2
        cat "$data/hub.err" >&2
        kill "$HUB_PID" 2>/dev/null
        wait "$HUB_PID" 2>/dev/null
        HUB_PID=
        return 1
    fi
    HUB_URL=$url
    HUB_DATA=$data
    export HUB_URL HUB_PID HUB_DATA HUB_LOG
}

hub_stop() {
    if [ -n "${HUB_PID:-}" ]; then
        kill -TERM "$HUB_PID" 2>/dev/null
        wait "$HUB_PID" 2>/dev/null
        HUB_PID=
    fi
    return 0
}

blobstore_start() {
    if [ $# -ne 1 ]; then
        echo "usage: blobstore_start DIR" >&2
        return 2
    fi
    local url
    url=$(bash "$FAKEHUB_DIR/blobstore.sh" start "$1") || return 1
    BLOBSTORE_URL=$url
    BLOBSTORE_DIR=$(cd "$1" && pwd)
    export BLOBSTORE_URL BLOBSTORE_DIR
}

blobstore_stop() {
    if [ -n "${BLOBSTORE_DIR:-}" ]; then
        bash "$FAKEHUB_DIR/blobstore.sh" stop "$BLOBSTORE_DIR"
        BLOBSTORE_DIR=
    fi
    return 0
}
