#!/bin/bash
# SPDX-License-Identifier: MIT
# CLI with the dryrun backend: ~ expansion, the LoRA warning and --strict,
# the folder only read, --json, --list-backends, login/logout.
. "$(dirname "$0")/lib.sh"

if ! have_backend dryrun; then
	echo "1..0 # SKIP the dryrun backend is not built"
	exit 77
fi
export MODELSCOPE_API_TOKEN=$SENTINEL

M=$HOME/models/tiny
make_model "$M"
listing "$M" >"$T/before.txt"

# the seed's output, ~ expanded (from MODEL_DIR and from --model-dir)
# shellcheck disable=SC2088
MODEL_DIR='~/models/tiny' run tilde-env --backend dryrun --repo-id alice/tiny
expect_rc 0 "MODEL_DIR=~/models/tiny"
has "$ERR" "Publishing $M to alice/tiny" "names the folder (~ expanded) and the repo"
has "$OUT" "Dry run finished" "says it finished"
hasnt "$ERR" "WARNING" "a full model folder: no warning"
# shellcheck disable=SC2088
run tilde-flag --backend dryrun --repo-id alice/tiny --model-dir '~/models/tiny' --hash --verbose
expect_rc 0 "--model-dir ~/models/tiny --hash --verbose"
has "$ERR" "Publishing $M to alice/tiny" "--model-dir: ~ expanded"
for f in config.json tokenizer_config.json model.safetensors "sub dir/notes ü.txt" empty.txt; do
	has "$OUT" "$f" "the plan lists $f"
done
has "$OUT" "$(sha256sum "$M/model.safetensors" | cut -d' ' -f1)" "--hash: the SHA-256 of the weights"
if grep -qE "^token +set \(from MODELSCOPE_API_TOKEN\)$" "$ERR"; then
	ok 0 "--verbose: the settings, token only as set (from MODELSCOPE_API_TOKEN)"
else
	ok 1 "--verbose: the settings, token only as set (from MODELSCOPE_API_TOKEN)"
fi
run strict-clean --backend dryrun --repo-id alice/tiny --model-dir "$M" --strict
expect_rc 0 "--strict with nothing to warn about"
MSPUBLISH_BACKEND=dryrun REPO_ID=alice/env MODEL_DIR=$M run env-only
expect_rc 0 "everything from the environment (MSPUBLISH_BACKEND, REPO_ID, MODEL_DIR)"
has "$ERR" "Publishing $M to alice/env (backend dryrun" "the environment's repo, folder and backend"
run quiet --backend dryrun --repo-id alice/tiny --model-dir "$M" --quiet
expect_rc 0 "--quiet"
hasnt "$ERR" "Publishing" "--quiet: no progress lines"

# --show-config with the token in the environment
run show --backend dryrun --repo-id alice/tiny --model-dir "$M" --show-config
if grep -qE "^token +set \(from MODELSCOPE_API_TOKEN\)$" "$OUT"; then ok 0 "--show-config: token set (from MODELSCOPE_API_TOKEN)"; else ok 1 "--show-config: token set (from MODELSCOPE_API_TOKEN)"; fi

# --json: one JSON object on stdout, the same facts
run json --backend dryrun --repo-id alice/tiny --model-dir "$M" --json --hash
expect_rc 0 "--json"
if python3 - "$OUT" "$M" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
obj = json.loads(text)             # one document, nothing else around it
assert isinstance(obj, dict), "not an object"
assert text.count("\n") == 1, "not a single line"
assert obj["status"] == "ok", obj["status"]
assert obj["repo_id"] == "alice/tiny", obj.get("repo_id")
assert obj["folder"] == sys.argv[2], obj.get("folder")
assert obj["files"] == 5, obj.get("files")
assert obj["bytes"] == 70000 + 24 + 27 + 6, obj.get("bytes")
PY
then ok 0 "--json: one valid object with status, repo, folder, files, bytes"
else ok 1 "--json: one valid object with status, repo, folder, files, bytes"; fi
hasnt "$OUT" "Dry run finished" "--json: no prose on stdout"
run json-error --backend dryrun --repo-id "not-a-repo" --model-dir "$M" --json
expect_rc 1 "--json with a bad repo id"
if python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o["status"] == "error" and o["error"]["message"] and o["error"]["class"] == "invalid", o
' "$OUT"; then ok 0 "--json error: status error, class and message"; else ok 1 "--json error: status error, class and message"; fi
has "$ERR" "ERROR: 上传失败: " "--json error: the ERROR line on stderr too"

# a folder without config.json / tokenizer_config.json may be a LoRA adapter
L=$T/lora
mkdir -p "$L"
head -c 1000 /dev/urandom >"$L/adapter_model.safetensors"
printf '{"r": 8}\n' >"$L/adapter_config.json"
run lora --backend dryrun --repo-id alice/lora --model-dir "$L"
expect_rc 0 "LoRA folder: still published"
has "$ERR" "WARNING: " "LoRA folder: a warning"
has "$ERR" "LoRA" "the warning mentions LoRA"
has "$ERR" "config.json" "the warning names config.json"
has "$ERR" "tokenizer_config.json" "the warning names tokenizer_config.json"
run lora-strict --backend dryrun --repo-id alice/lora --model-dir "$L" --strict
expect_rc 1 "LoRA folder with --strict"
has "$ERR" "ERROR: 上传失败: " "--strict: the failure line"
printf '{}\n' >"$L/config.json"
run lora-half --backend dryrun --repo-id alice/lora --model-dir "$L"
expect_rc 0 "only tokenizer_config.json missing"
has "$ERR" "tokenizer_config.json" "names the one missing file"
hasnt "$ERR" "no config.json" "does not claim config.json is missing"

# --list-backends
run list --list-backends
expect_rc 0 "--list-backends"
if grep -qE '^dryrun +[^ ].*\[plan\]$' "$OUT"; then ok 0 "--list-backends: dryrun with a description and [plan]"; else ok 1 "--list-backends: dryrun with a description and [plan]"; fi
for b in http git; do
	if grep -q "^$b " "$OUT"; then
		if grep -qE "^$b +[^ ].*\[network[a-z,]*\]$" "$OUT"; then ok 0 "--list-backends: $b with a description and its capabilities"; else ok 1 "--list-backends: $b with a description and its capabilities"; fi
	fi
done

# login/logout
run login-dryrun login --backend dryrun --token "$SENTINEL"
expect_rc 1 "login with --backend dryrun is refused"
has "$ERR" "dryrun" "login refusal names the backend"
has "$ERR" "cannot check a token" "login refusal says why"
if [ ! -e "$XDG_CONFIG_HOME/mspublish/login" ]; then ok 0 "nothing stored by a refused login"; else ok 1 "nothing stored by a refused login"; fi
run logout logout
expect_rc 0 "logout with nothing stored"
has "$OUT" "no stored login" "logout with nothing stored says so"
hasnt "$OUT" "removed" "logout with nothing stored claims no removal"
if [ ! -e "$XDG_CONFIG_HOME/mspublish/login" ]; then ok 0 "logout leaves no file"; else ok 1 "logout leaves no file"; fi
mkdir -p "$XDG_CONFIG_HOME/mspublish"
printf '%s\n' "$SENTINEL" >"$XDG_CONFIG_HOME/mspublish/login"
chmod 600 "$XDG_CONFIG_HOME/mspublish/login"
(unset MODELSCOPE_API_TOKEN && run stored-show --show-config)
if grep -qE "^token +set \(from $XDG_CONFIG_HOME/mspublish/login\)$" "$T/out/stored-show.out"; then ok 0 "a stored login is used: set (from its file)"; else ok 1 "a stored login is used: set (from its file)"; fi
run logout-stored logout
expect_rc 0 "logout"
if [ ! -e "$XDG_CONFIG_HOME/mspublish/login" ]; then ok 0 "logout removes the stored login"; else ok 1 "logout removes the stored login"; fi

# the folder was only read by all of the above
listing "$M" >"$T/after.txt"
if cmp -s "$T/before.txt" "$T/after.txt"; then
	ok 0 "the model folder is untouched (names, sizes, mtimes, modes, SHA-256)"
else
	ok 1 "the model folder is untouched"
	diff "$T/before.txt" "$T/after.txt" | sed 's/^/#   /'
fi

finish
