#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark of `mspublish --backend git` against tests/fakehub in
# object-store mode (nginx receives the LFS objects), issue 5 "Performance".
# Not a test; run by hand:
#
#   bench/git.sh [path/to/mspublish]      (default: build/core/mspublish)
#
# Folder A (as bench/http.sh): 4 x 256 MiB .safetensors + 20 small files.
#
#   floor: stock git + git-lfs on a copy of A (the copy is not timed):
#          git init, git lfs track, git add, git commit, git push, to a hub
#          of its own (so that neither run finds the other's objects).
#   mspublish A: wall <= 0.6 x floor wall, client CPU (user+sys of the
#          process and its children) <= 0.5 x floor CPU, peak RSS <= 32 MiB.
#   one small file changed: only that blob and one commit travel (no LFS
#          PUT, one receive-pack POST); wall <= 5 % of the first push.
#
# Needs ~5 GiB free in BENCH_DIR (default $TMPDIR or /tmp).  Exit 1 when a
# goal is missed, 2 when something failed.
set -u

BIN=${1:-${MSPUBLISH_BIN:-build/core/mspublish}}
. "$(dirname "$0")/lib.sh"
bench_init git git git-lfs curl
PLUGIN_DIR=$(cd "$(dirname "$BIN")/.." && pwd)/plugins/modelscope-git

export XDG_CACHE_HOME=$W/cache GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
# stock git: identity, and the token from the environment through a
# credential helper (never on a command line)
git config --global user.name bench
git config --global user.email bench@localhost
git config --global init.defaultBranch master
git config --global credential.helper \
	'!f() { test "$1" = get || exit 0; echo username=oauth2; echo "password=$BENCH_TOKEN"; }; f'
export BENCH_TOKEN=$TOKEN

echo "# making test data in $W"
bench_folder_a "$W/A"
sleep 2 # mtimes older than the hash cache's racy window
bench_server_dir 4

# hub_up NAME: a fresh hub + blob store in $SRV/NAME-*
hub_up() {
	blobstore_start "$SRV/$1-store" || exit 2
	hub_start "$SRV/$1-hub" "$TOKEN" --blob-store-url "$BLOBSTORE_URL" \
		--blob-store-dir "$BLOBSTORE_DIR" || exit 2
	curl -sS -f -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: application/json' \
		-d '{"Path":"bench","Name":"a","Visibility":1}' \
		"$HUB_URL/api/v1/models" >/dev/null || exit 2
}
hub_down() {
	hub_stop
	blobstore_stop
	rm -rf "$SRV/$1-hub" "$SRV/$1-store"
}

echo "# warming the page cache; $(nproc) CPUs, load" \
	"$(cut -d' ' -f1-3 /proc/loadavg)"
cat "$W"/A/* >/dev/null

# ---- floor: stock git + git-lfs
echo "A: 4 x 256 MiB + 20 small files"
hub_up stock
cp -a "$W/A" "$W/stock"
cat "$W"/stock/* >/dev/null
cat >"$W/stock.sh" <<EOF
set -e
cd "$W/stock"
git init -q
git lfs install --local >/dev/null
git lfs track '*.safetensors' >/dev/null
git add -A
git commit -q -m 'stock git'
git push -q "$HUB_URL/bench/a.git" master:master
EOF
timed "floor: git init/lfs track/add/commit/push" bash "$W/stock.sh"
f_e=$E f_c=$C f_m=$M
printf '{"i": 0, "changed": true}\n' >"$W/stock/meta00.json"
printf '%s\n' 'set -e' "cd '$W/stock'" \
	"git commit -q -am 'one small change'" \
	"git push -q '$HUB_URL/bench/a.git' master:master" >"$W/stock2.sh"
timed "floor: one small file changed: commit/push" bash "$W/stock2.sh"
f2_e=$E
rm -rf "$W/stock"
hub_down stock

# ---- mspublish
hub_up ms
MS=("$BIN" --plugin-dir "$PLUGIN_DIR" --backend git --endpoint "$HUB_URL"
	--token "$TOKEN" --json --repo-id bench/a --model-dir "$W/A")
timed "mspublish A (fresh hash and git caches)" "${MS[@]}"
a_e=$E a_c=$C a_m=$M
grep -q '"blobs_uploaded":4' "$W/stdout" || {
	echo "run A did not upload 4 objects:" >&2
	cat "$W/stdout" "$W/stderr" >&2
	exit 2
}
cp "$W/stdout" "$W/a.json"
timed "mspublish A again (unchanged)" "${MS[@]}"
u_e=$E
grep -q '"up_to_date":true' "$W/stdout" || {
	echo "the unchanged re-run was not up to date" >&2
	exit 2
}
printf '{"i": 0, "changed": true}\n' >"$W/A/meta00.json"
mark=$(wc -l <"$HUB_LOG")
smark=$(wc -l <"$BLOBSTORE_DIR/logs/access.log" 2>/dev/null || echo 0)
timed "mspublish A, one small file changed" "${MS[@]}"
s_e=$E s_c=$C s_m=$M
cp "$W/stdout" "$W/s.json"
s_puts=$(($(wc -l <"$BLOBSTORE_DIR/logs/access.log") - smark))
s_batch=$(tail -n +$((mark + 1)) "$HUB_LOG" |
	grep -c 'info/lfs/objects/batch' || true)
s_recv=$(tail -n +$((mark + 1)) "$HUB_LOG" |
	grep '"method": "POST"' | grep -c 'git-receive-pack' || true)
s_bytes=$(tail -n +$((mark + 1)) "$HUB_LOG" | grep 'git-receive-pack' |
	python3 -c "import json,sys; print(sum(json.loads(l).get('req_bytes', 0) for l in sys.stdin))")
s_hub_ms=$(tail -n +$((mark + 1)) "$HUB_LOG" |
	python3 -c "import json,sys; print(sum(json.loads(l).get('ms', 0) for l in sys.stdin))")
s_objs=$(git --git-dir="$HUB_DATA/repos/bench/a.git" rev-list --objects \
	master~1..master | wc -l)

if grep -rlF -e "$TOKEN" -e "$(printf 'oauth2:%s' "$TOKEN" | base64 -w0)" \
	"$W/cache" "$HOME" "$W/stdout" "$W/stderr" "$W/a.json" \
	"$W/s.json" >/dev/null 2>&1; then
	echo "FAIL: the token leaked into the output or the cache"
	exit 1
fi

python3 - "$f_e" "$f_c" "$f_m" "$a_e" "$a_c" "$a_m" "$u_e" "$s_e" "$s_c" \
	"$s_m" "$s_puts" "$s_batch" "$s_recv" "$s_bytes" "$s_objs" "$f2_e" "$s_hub_ms" <<'EOF'
import sys
(fe, fc, fm, ae, ac, am, ue, se, sc, sm, sputs, sbatch, srecv, sbytes,
 sobjs, f2e, shubms) = sys.argv[1:]
fe, fc, ae, ac, ue, se, sc, f2e = map(float, (fe, fc, ae, ac, ue, se, sc,
                                              f2e))
fm, am, sm = int(fm), int(am), int(sm)
ok = True
def goal(cond, text):
    global ok
    print(("PASS " if cond else "FAIL ") + text)
    ok = ok and cond
print("A: stock git+git-lfs %.2f s wall / %.2f s CPU / %.1f MiB RSS; "
      "mspublish %.2f s wall / %.2f s CPU / %.1f MiB RSS"
      % (fe, fc, fm / 1024, ae, ac, am / 1024))
goal(ae <= 0.6 * fe, "A wall ratio %.2f (goal <= 0.60)" % (ae / fe))
goal(ac <= 0.5 * fc, "A CPU ratio %.2f (goal <= 0.50)" % (ac / fc))
goal(am <= 32768, "A peak RSS %.1f MiB (goal <= 32)" % (am / 1024))
print("A unchanged re-run: %.3f s (no push)" % ue)
goal(int(sputs) == 0 and int(sobjs) == 3,
     "one small file changed: %s LFS PUT(s), %s LFS batch request(s), "
     "%s receive-pack POST(s) of %s bytes; the new commit brings %s "
     "objects (goal: 0 PUTs; commit + root tree + that blob = 3)"
     % (sputs, sbatch, srecv, sbytes, sobjs))
goal(se <= 0.05 * ae, "one small file changed: %.3f s wall = %.1f %% of "
     "the first push (goal <= 5 %%), %.2f s CPU, %.1f MiB RSS"
     % (se, 100 * se / ae, sc, sm / 1024))
print("  (of which the hub spent %.3f s answering, mostly its receive-pack "
      "and pre-receive hook; stock git's commit + push of the same change: "
      "%.3f s)" % (int(shubms) / 1000.0, f2e))
sys.exit(0 if ok else 1)
EOF
