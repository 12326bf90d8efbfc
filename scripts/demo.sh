#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The main job on a local default: build mspublish, start the local test hub
# (tests/fakehub) on a free loopback port, publish examples/tiny-model to it
# with the http backend, verify what landed with stock git + git-lfs, show
# where it landed, and stop the hub.
#   scripts/demo.sh [BACKEND]      (http by default; git and dryrun work too)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
backend=${1:-http}
bash scripts/setup.sh build

# The hub's data stays in build/demo-hub after the run, for a look around.
work=$top/build/demo-hub
rm -rf "$work"
mkdir -p "$work"
# shellcheck source=/dev/null
source tests/fakehub/hub.sh
trap 'hub_stop >/dev/null 2>&1' EXIT
# A throwaway token for the local hub only; a real one comes from the hub's
# website and belongs in MODELSCOPE_API_TOKEN, never in a file or a script.
token=demo-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
hub_start "$work/hub" "$token" >/dev/null
echo "Local test hub: $HUB_URL (data in $work/hub)"
echo

export MODELSCOPE_API_TOKEN=$token MODELSCOPE_ENDPOINT=$HUB_URL
export XDG_CACHE_HOME=$work/cache MSPUBLISH_CONFIG=/dev/null
build/core/mspublish --backend "$backend" --repo-id demo/tiny-model \
	--model-dir examples/tiny-model --commit-message "publish the tiny example model"

if [ "$backend" != dryrun ]; then
	echo
	echo "What landed (stock git clone + git lfs pull, compared byte for byte):"
	bash tests/fakehub/verify.sh "$HUB_URL" demo/tiny-model examples/tiny-model
	echo
	echo "The hub's file listing (GET /api/v1/models/demo/tiny-model/repo/files):"
	python3 - "$HUB_URL" "$token" <<'PY'
import json, sys, urllib.request
url, token = sys.argv[1], sys.argv[2]
req = urllib.request.Request(
    f"{url}/api/v1/models/demo/tiny-model/repo/files?Revision=master&Recursive=True",
    headers={"Authorization": f"Bearer {token}"})
files = json.load(urllib.request.urlopen(req))["Data"]["Files"]
for f in files:
    if f.get("Type") != "tree":
        print(f"  {f['Path']:<26} {f['Size']:>8} bytes  sha256 {f['Sha256'][:16]}…")
PY
	echo
	echo "Commit on the hub's git repository ($work/hub/repos/demo/tiny-model.git):"
	git --git-dir="$work/hub/repos/demo/tiny-model.git" log --stat --format='  %H %s' master | sed 's/^/  /'
fi
echo
echo "To publish to the real hub instead: export MODELSCOPE_API_TOKEN=<your token>"
echo "(from your ModelScope account settings), then run"
echo "  $top/build/core/mspublish --repo-id OWNER/NAME --model-dir PATH"
echo "The default endpoint is https://modelscope.cn (--endpoint or MODELSCOPE_ENDPOINT to change)."
