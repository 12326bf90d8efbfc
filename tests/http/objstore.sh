#!/bin/bash
# SPDX-License-Identifier: MIT
# http backend with blob hrefs on other hosts (object-store mode):
# credentials go only to the endpoint's host (protocol doc 9.3); PUTs
# carry Content-Length and no Content-Type; nginx as the store works.
. "$(dirname "$0")/lib.sh" "$@"

M=$T/model
make_model "$M"

# 1. a recording store: which headers reach a foreign host?
S=$T/store1
mkdir -p "$S"
python3 "$HERE/putrecorder.py" "$S" > "$S/url" 2> "$S/err" &
REC_PID=$!
trap 'kill $REC_PID 2>/dev/null; cleanup' EXIT
for i in $(seq 1 100); do
    grep -q '^http://' "$S/url" 2>/dev/null && break
    sleep 0.05
done
STORE_URL=$(head -n 1 "$S/url")
start_hub --blob-store-url "$STORE_URL" --blob-store-dir "$S"
ms foreign --repo-id alice/os1 --model-dir "$M" --json
expect_rc 0 foreign
check "foreign: 4 PUTs reached the store" \
    test "$(wc -l < "$S/headers.jsonl")" = 4
check "foreign: no Authorization, Cookie or Content-Type; exact length" \
    python3 - "$S/headers.jsonl" "$M" <<'PY'
import json, os, sys, hashlib
sizes = {}
for root, _, files in os.walk(sys.argv[2]):
    for f in files:
        p = os.path.join(root, f)
        h = hashlib.sha256(open(p, "rb").read()).hexdigest()
        sizes[h] = os.path.getsize(p)
bad = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    hd = {k.lower(): v for k, v in r["headers"].items()}
    oid = r["path"].rsplit("/", 1)[1]
    if "authorization" in hd or "cookie" in hd or "content-type" in hd:
        print("# credentials or Content-Type sent:", sorted(hd))
        bad += 1
    if int(hd.get("content-length", -1)) != sizes.get(oid):
        print("# bad Content-Length for", oid)
        bad += 1
    if not hd.get("user-agent", "").startswith("mspublish/"):
        bad += 1
    if len(hd.get("x-request-id", "")) != 32:
        bad += 1
sys.exit(1 if bad else 0)
PY
verify foreign alice/os1 "$M"
EXTRA_SCAN="$S"
hub_stop

# 2. nginx as the store (what bench/http.sh measures)
blobstore_start "$T/nginx" || { not_ok "blobstore.sh did not start"; finish; }
trap 'kill $REC_PID 2>/dev/null; blobstore_stop; cleanup' EXIT
restart_hub --blob-store-url "$BLOBSTORE_URL" \
    --blob-store-dir "$BLOBSTORE_DIR"
M2=$T/model2
make_model "$M2"
ms nginx --repo-id alice/os2 --model-dir "$M2" --json
expect_rc 0 nginx
# the empty .safetensors is already there from the first part
check "nginx: 3 blobs uploaded, 1 already on the hub" \
    grep -q '"blobs_uploaded":3,"blobs_skipped":1' "$T/out/nginx.out"
verify nginx alice/os2 "$M2"
ms nginx-rerun --repo-id alice/os2 --model-dir "$M2"
expect_rc 0 nginx-rerun
expect_err nginx-rerun 'Nothing to upload'
EXTRA_SCAN="$S $T/nginx/logs"
finish
