#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark of `mspublish --backend http` against tests/fakehub in
# object-store mode (nginx receives the blobs), issue 4 "Performance".
# Not a test; run by hand:
#
#   bench/http.sh [path/to/mspublish]      (default: build/core/mspublish)
#
# Every figure is a ratio to a floor measured in the same run.  The client
# shares the machine's cores with the hub and nginx, so besides wall time
# the client's own CPU seconds (user+sys, /usr/bin/time) are compared.
#
#   A: 4 x 256 MiB .safetensors + 20 small files.  Floor = `openssl dgst
#      -sha256` over all files, then one `curl -T` PUT per big file to the
#      hrefs the batch API gives, one after the other, then (for the
#      same end state) one commit with curl.  Goals: CPU <= 1.1 x floor
#      CPU; wall <= 0.8 x floor wall.  ROUNDS (default 3) rounds of floor
#      then mspublish, each on a folder of its own; the medians count.
#      Printed too: the wall ratio against the floor without its commit
#      (the hub's verification of the 1 GiB at the commit, ~0.5 CPU s per
#      core here, is then on mspublish's side only).
#   A again, unchanged: wall <= 2 % of the first run, 0 files re-hashed.
#   B: 3,000 files of 1-64 KiB + 2 x 64 MiB: wall time and requests made
#      against the floor of 1 batch request, 2 PUTs and one commit per
#      batch the protocol allows (4.9).
#   S: only when SDK_SRC is the official SDK's src/ (modelscope_hub; needs
#      Debian's python3-requests, -tqdm, -filelock): its upload_folder
#      and mspublish, each on a new folder like A; wall and CPU ratios.
#   C: one 4 GiB file (BIG=0 skips it): peak RSS <= 32 MiB, as for A.
#
# Needs ~12 GiB free in BENCH_DIR (default $TMPDIR or /tmp) for the folders;
# the hub's data goes to /dev/shm when it has 8 GiB free.  Exit 1 when a
# goal is missed, 2 when something failed.
set -u

BIN=${1:-${MSPUBLISH_BIN:-build/core/mspublish}}
BIG=${BIG:-1}
. "$(dirname "$0")/lib.sh"
bench_init http openssl curl
PLUGIN_DIR=$(cd "$(dirname "$BIN")/.." && pwd)/plugins/modelscope-http

ROUNDS=${ROUNDS:-3}
echo "# making test data in $W"
for r in $(seq 1 "$ROUNDS"); do
	bench_folder_a "$W/A$r" # the floor's
	bench_folder_a "$W/M$r" # mspublish's: same sizes, other bytes
done
mkdir -p "$W/B"
python3 - "$W/B" <<'EOF'
import os, random, sys
b = sys.argv[1]
random.seed(4)
for i in range(3000):
    d = os.path.join(b, "part%02d" % (i % 40))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%04d.json" % i), "wb") as f:
        f.write(os.urandom(random.randint(1024, 65536)))
for i in range(2):
    with open(os.path.join(b, "w%d.safetensors" % i), "wb") as f:
        for _ in range(16):
            f.write(os.urandom(4 << 20))
EOF
if [ "$BIG" = 1 ]; then
	mkdir -p "$W/C"
	dd if=/dev/urandom of="$W/C/huge.safetensors" bs=4M count=1024 \
		status=none
fi
# mtimes must be older than the hash cache's racy window
sleep 2

bench_server_dir 8
blobstore_start "$SRV/store" || exit 2
hub_start "$SRV/hub" "$TOKEN" --blob-store-url "$BLOBSTORE_URL" \
	--blob-store-dir "$BLOBSTORE_DIR" || exit 2
echo "# hub $HUB_URL, blob store $BLOBSTORE_URL; $(nproc) CPUs, load" \
	"$(cut -d' ' -f1-3 /proc/loadavg)"

sum() { python3 -c "import sys; print('%.2f' % sum(map(float, sys.argv[1:])))" "$@"; }

auth=(-H "Authorization: Bearer $TOKEN" -H "Cookie: m_session_id=$TOKEN")
# the hub's API with curl (an array, so that `timed` can run it too)
api=(curl -sS -f "${auth[@]}" -H 'Content-Type: application/json')

# ---- A: ROUNDS interleaved rounds of floor then mspublish, each on a
# folder of its own (the hub deduplicates blobs), no dirty pages left over
MS=("$BIN" --plugin-dir "$PLUGIN_DIR" --backend http --endpoint "$HUB_URL"
	--token "$TOKEN" --quiet --json --verbose)
export XDG_CACHE_HOME=$W/cache
# hub_ms PATH_REGEX FROM_LINE: seconds the hub spent in matching requests
hub_ms() {
	tail -n +"$(($2 + 1))" "$HUB_LOG" | python3 -c "
import json, re, sys
print('%.2f' % (sum(r.get('ms', 0) for r in map(json.loads, sys.stdin)
                    if re.search(sys.argv[1], r['path'])) / 1000))" "$1"
}
rounds=()
echo "A: 4 x 256 MiB + 20 small files, $ROUNDS rounds"
for r in $(seq 1 "$ROUNDS"); do
	A=$W/A$r
	cat "$A"/* "$W/M$r"/* >/dev/null # warm page cache for both
	sync
	timed "floor $r: openssl dgst -sha256, all files" \
		openssl dgst -sha256 -r "$A"/*
	f_e=("$E") f_c=("$C")
	cp "$W/stdout" "$W/digests"
	"${api[@]}" -X POST -d "{\"Path\":\"bench\",\"Name\":\"floor$r\",\"Visibility\":1}" \
		"$HUB_URL/api/v1/models" >/dev/null || exit 2
	# the floor's batch request and, for the same end state as
	# mspublish, its commit of every file (the 20 small ones inline), so
	# that the hub verifies and imports the floor's blobs too
	python3 - "$W/digests" "$W/batch.json" "$W/commit.json" <<'PY'
import base64, json, os, sys
objs, acts = [], []
for line in sorted(open(sys.argv[1]), key=lambda l: l.split(" ", 1)[1]):
    d, p = line.split(" ", 1)
    p = p.strip().lstrip("*")
    if p.endswith(".safetensors"):
        objs.append({"oid": d, "size": os.path.getsize(p)})
        acts.append({"action": "create", "path": os.path.basename(p),
                     "type": "lfs", "size": os.path.getsize(p),
                     "sha256": d, "content": "", "encoding": ""})
    else:
        data = open(p, "rb").read()
        acts.append({"action": "create", "path": os.path.basename(p),
                     "type": "normal", "size": len(data), "sha256": "",
                     "content": base64.b64encode(data).decode(),
                     "encoding": "base64"})
json.dump({"operation": "upload", "objects": objs}, open(sys.argv[2], "w"))
json.dump({"commit_message": "floor", "actions": acts},
          open(sys.argv[3], "w"))
PY
	"${api[@]}" -X POST --data-binary @"$W/batch.json" \
		"$HUB_URL/api/v1/repos/models/bench/floor$r/info/lfs/objects/batch" \
		>"$W/hrefs.json" || exit 2
	python3 - "$W/digests" "$W/hrefs.json" >"$W/puts" <<'PY'
import json, sys
paths = {}
for line in open(sys.argv[1]):
    d, p = line.split(" ", 1)
    paths[d] = p.strip().lstrip("*")
for o in json.load(open(sys.argv[2]))["Data"]["objects"]:
    print(paths[o["oid"]], o["actions"]["upload"]["href"])
PY
	[ "$(wc -l <"$W/puts")" = 4 ] ||
		{ echo "batch gave no 4 hrefs" >&2; exit 2; }
	while read -r p href; do
		timed "floor $r: curl -T $(basename "$p")" \
			curl -sS -f -T "$p" "$href"
		f_e+=("$E")
		f_c+=("$C")
	done <"$W/puts"
	floor_e=$(sum "${f_e[@]}")
	floor_c=$(sum "${f_c[@]}")
	echo "  floor $r total: $floor_e s wall, $floor_c s CPU"
	timed "floor $r: curl commit" "${api[@]}" -X POST \
		--data-binary @"$W/commit.json" \
		"$HUB_URL/api/v1/repos/models/bench/floor$r/commit/master"
	floorc_e=$(sum "$floor_e" "$E")
	floorc_c=$(sum "$floor_c" "$C")
	sync
	rm -rf "$W/cache"
	log_mark=$(wc -l <"$HUB_LOG")
	timed "mspublish $r (fresh hash cache)" "${MS[@]}" \
		--repo-id "bench/a$r" --model-dir "$W/M$r"
	a_commit=$(hub_ms '/commit/' "$log_mark")
	cp "$W/stdout" "$W/a.json"
	cp "$W/stderr" "$W/a$r.err"
	grep -q '"blobs_uploaded":4' "$W/a.json" || {
		echo "run A did not upload 4 blobs:" >&2
		cat "$W/a.json" >&2
		exit 2
	}
	rounds+=("$floor_e,$floor_c,$E,$C,$M,$a_commit,$floorc_e,$floorc_c")
	# room on the tmpfs: this round's objects are not needed again
	find "$HUB_DATA/lfs/objects" -type f -delete
done
timed "mspublish A again (unchanged)" "${MS[@]}" --repo-id "bench/a$ROUNDS" \
	--model-dir "$W/M$ROUNDS"
a2_e=$E
a2_hashed=$(sed -n 's/.*hashed \([0-9]*\) file(s).*/\1/p' "$W/stderr" |
	tail -n 1)
a2_hashed=${a2_hashed:-0}
grep -q '"up_to_date":true' "$W/stdout" || {
	echo "the unchanged re-run was not up to date" >&2
	exit 2
}

# ---- B
echo "B: 3,000 files of 1-64 KiB + 2 x 64 MiB"
# the floor client gets its own big files (blobs are deduplicated)
mkdir -p "$W/Bf"
cp -a "$W"/B/part* "$W/Bf/"
for i in 0 1; do
	dd if=/dev/urandom of="$W/Bf/w$i.safetensors" bs=4M count=16 \
		status=none
done
cat "$W"/B/*/* "$W"/B/*.safetensors "$W"/Bf/*.safetensors >/dev/null
n_b=$(find "$W/B" -type f | wc -l)
"${api[@]}" -X POST -d '{"Path":"bench","Name":"bfloor","Visibility":1}' \
	"$HUB_URL/api/v1/models" >/dev/null || exit 2
# floor: one keep-alive connection, the protocol's minimum of requests:
# 1 batch, 1 PUT per blob, one commit per batch of 4.9 (Python stdlib)
timed "floor B: batch + 2 PUTs + commits (python)" python3 - "$W/Bf" \
	"$HUB_URL" "$TOKEN" <<'PY'
import base64, hashlib, http.client, json, os, sys, urllib.parse
root, url, tok = sys.argv[1:4]
u = urllib.parse.urlsplit(url)
hdr = {"Authorization": "Bearer " + tok, "Cookie": "m_session_id=" + tok,
       "Content-Type": "application/json"}
conn = http.client.HTTPConnection(u.hostname, u.port)
def call(method, path, body):
    conn.request(method, path, body=json.dumps(body).encode(), headers=hdr)
    r = conn.getresponse()
    data = r.read()
    if r.status >= 400:
        sys.exit("%s %s: %d %s" % (method, path, r.status, data[:200]))
    return json.loads(data)
files = []
for d, _, fs in os.walk(root):
    for f in fs:
        p = os.path.join(d, f)
        files.append((os.path.relpath(p, root), p))
files.sort()
lfs = {}
for rel, p in files:
    if rel.endswith(".safetensors"):
        h = hashlib.sha256()
        with open(p, "rb") as f:
            for b in iter(lambda: f.read(1 << 20), b""):
                h.update(b)
        lfs[rel] = (h.hexdigest(), os.path.getsize(p))
base = "/api/v1/repos/models/bench/bfloor"
res = call("POST", base + "/info/lfs/objects/batch", {"operation": "upload",
           "objects": [{"oid": o, "size": n} for o, n in lfs.values()]})
for o in res["Data"]["objects"]:
    href = urllib.parse.urlsplit(o["actions"]["upload"]["href"])
    p = [p for rel, p in files if lfs.get(rel, ("",))[0] == o["oid"]][0]
    c2 = http.client.HTTPConnection(href.hostname, href.port)
    with open(p, "rb") as f:
        c2.request("PUT", href.path, body=f,
                   headers={"Content-Length": str(o["size"])})
        r = c2.getresponse()
        r.read()
    c2.close()
n = len(files)
bs = n if n <= 100 else 512 if n > 10000 else min(max(n // 80, 64), 256)
nb = -(-n // bs)
for i in range(nb):
    acts = []
    for rel, p in files[i * bs:(i + 1) * bs]:
        if rel in lfs:
            acts.append({"action": "create", "path": rel, "type": "lfs",
                         "size": lfs[rel][1], "sha256": lfs[rel][0],
                         "content": "", "encoding": ""})
        else:
            data = open(p, "rb").read()
            acts.append({"action": "create", "path": rel, "type": "normal",
                         "size": len(data), "sha256": "",
                         "content": base64.b64encode(data).decode(),
                         "encoding": "base64"})
    call("POST", base + "/commit/master", {"commit_message":
         "floor (batch %d/%d)" % (i + 1, nb), "actions": acts})
PY
bf_e=$E
log_mark=$(wc -l <"$HUB_LOG")
store_mark=$(wc -l <"$BLOBSTORE_DIR/logs/access.log" 2>/dev/null || echo 0)
timed "mspublish B" "${MS[@]}" --repo-id bench/b --model-dir "$W/B"
b_e=$E b_c=$C b_m=$M
b_hub=$(tail -n +$((log_mark + 1)) "$HUB_LOG" | wc -l)
b_store=$(($(wc -l <"$BLOBSTORE_DIR/logs/access.log") - store_mark))
b_commits=$(tail -n +$((log_mark + 1)) "$HUB_LOG" | grep -c '/commit/')
b_floor_commits=$(python3 -c "
n = $n_b
b = n if n <= 100 else 512 if n > 10000 else min(max(n // 80, 64), 256)
print(-(-n // b))")
b_floor=$((1 + 2 + b_floor_commits))

# ---- S (optional): the official SDK's upload_folder on a folder like A
s_line=
if [ -n "${SDK_SRC:-}" ]; then
	echo "S: official SDK (modelscope_hub at $SDK_SRC) vs mspublish, folder A"
	bench_folder_a "$W/Asdk"
	bench_folder_a "$W/Ams"
	cat "$W"/Asdk/* "$W"/Ams/* >/dev/null
	sync
	timed "official SDK HubApi().upload_folder" env \
		PYTHONPATH="$SDK_SRC" MODELSCOPE_HOME="$W/mshome" \
		/usr/bin/python3 -c '
import sys
from modelscope_hub import HubApi
api = HubApi(endpoint=sys.argv[1], token=sys.argv[2])
api.upload_folder(sys.argv[3], "model", sys.argv[4], disable_tqdm=True)
' "$HUB_URL" "$TOKEN" bench/sdk "$W/Asdk"
	s_e=$E s_c=$C
	sync
	rm -rf "$W/cache"
	timed "mspublish (fresh hash cache)" "${MS[@]}" --repo-id bench/ms \
		--model-dir "$W/Ams"
	s_line="S: official SDK $s_e s wall / $s_c s CPU; mspublish $E s wall / $C s CPU: ratios $(python3 -c "print('wall %.2f, CPU %.2f' % ($E / $s_e, $C / $s_c))")"
fi

# ---- C
if [ "$BIG" = 1 ]; then
	echo "C: one 4 GiB file"
	timed "mspublish C" "${MS[@]}" --repo-id bench/c --model-dir "$W/C"
	c_e=$E c_m=$M
else
	c_e=0 c_m=0
fi

[ -z "$s_line" ] || echo "$s_line"
if grep -rlF -- "$TOKEN" "$W/cache" "$HOME" "$W/stdout" "$W/stderr" \
	"$W/a.json" >/dev/null 2>&1; then
	echo "FAIL: the token leaked into the output or the cache"
	exit 1
fi

python3 - "${rounds[*]}" "$a2_e" "$a2_hashed" \
	"$b_e" "$b_c" "$b_m" "$b_hub" "$b_store" "$b_commits" "$b_floor" \
	"$b_floor_commits" "$c_e" "$c_m" "$BIG" "$bf_e" <<'EOF'
import statistics, sys
(rounds, a2e, a2h, be, bc, bm, bhub, bstore, bcom, bfloor,
 bfc, ce, cm, big, bfe) = sys.argv[1:]
a2e, be, bc, ce, bfe = map(float, (a2e, be, bc, ce, bfe))
bm, cm = int(bm), int(cm)
rounds = [list(map(float, r.split(","))) for r in rounds.split()]
ok = True
def goal(cond, text):
    global ok
    print(("PASS " if cond else "FAIL ") + text)
    ok = ok and cond
wall, cpu, own, full = [], [], [], []
for i, (fe, fc, ae, ac, am, acm, fce, fcc) in enumerate(rounds, 1):
    wall.append(ae / fe)
    cpu.append(ac / fc)
    own.append((ae - acm) / fe)
    full.append(ae / fce)
    print("A round %d: floor %.2f s wall / %.2f s CPU, with its commit "
          "%.2f s; mspublish %.2f s wall / %.2f s CPU, of which the hub "
          "answered the commit in %.2f s" % (i, fe, fc, fce, ae, ac, acm))
med = statistics.median
ae = med(r[2] for r in rounds)
am = max(int(r[4]) for r in rounds)
rng = lambda v: "%.2f [%.2f-%.2f]" % (med(v), min(v), max(v))
print("A: ratios are medians of %d rounds [range]" % len(rounds))
goal(med(cpu) <= 1.1, "A CPU ratio %s (goal <= 1.10)" % rng(cpu))
goal(med(full) <= 0.8, "A wall ratio %s against the floor with its commit "
     "(the same end state: the hub verifies and imports the blobs for "
     "both) (goal <= 0.80)" % rng(full))
print("     against the floor without a commit: %s, best run against best "
      "run %.2f; mspublish without the time the hub took to answer its "
      "commit: %s" % (rng(wall), min(r[2] for r in rounds) /
                     min(r[0] for r in rounds), rng(own)))
goal(a2e <= 0.02 * ae, "A unchanged re-run %.3f s = %.1f %% of the first "
     "(goal <= 2 %%)" % (a2e, 100 * a2e / ae))
goal(int(a2h) == 0, "A unchanged re-run re-hashed %s files (goal 0)" % a2h)
print("B: %.2f s wall, %.2f s CPU; %d hub requests + %d blob-store PUTs "
      "(%d commits); floor %d requests (1 batch + 2 PUTs + %d commits): "
      "ratio %.2f" % (be, bc, int(bhub), int(bstore), int(bcom),
                      int(bfloor), int(bfc),
                      (int(bhub) + int(bstore)) / int(bfloor)))
print("B: floor client (same requests, keep-alive, Python) %.2f s wall; "
      "mspublish/floor wall ratio %.2f" % (bfe, be / bfe))
goal(am <= 32768, "peak RSS A (256 MiB files, worst round): %.1f MiB (goal <= 32)"
     % (am / 1024))
goal(bm <= 32768, "peak RSS B: %.1f MiB (goal <= 32)" % (bm / 1024))
if big == "1":
    goal(cm <= 32768, "peak RSS C (one 4 GiB file): %.1f MiB (goal <= 32), "
         "%.2f s wall (%.0f MiB/s end to end)" % (cm / 1024, ce,
                                                 4096 / ce))
sys.exit(0 if ok else 1)
EOF
