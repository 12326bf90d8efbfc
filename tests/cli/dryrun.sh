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
run quiet --backend dryrun --repo-id alice/tiny --model-dir "$M" --quiet
expect_rc 0 "--quiet"
hasnt "$ERR" "Publishing" "--quiet: no progress lines"

# --show-config with the token in the environment
run show --backend dryrun --repo-id alice/tiny --model-dir "$M" --show-config
grep -qE "^token +set \(from MODELSCOPE_API_TOKEN\)$" "$OUT"
ok $? "--show-config: token set (from MODELSCOPE_API_TOKEN)"

# --json: one JSON object on stdout, the same facts
run json --backend dryrun --repo-id alice/tiny --model-dir "$M" --json --hash
expect_rc 0 "--json"
python3 - "$OUT" "$M" <<'PY'
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
ok $? "--json: one valid object with status, repo, folder, files, bytes"
hasnt "$OUT" "Dry run finished" "--json: no prose on stdout"
run json-error --backend dryrun --repo-id "not-a-repo" --model-dir "$M" --json
expect_rc 1 "--json with a bad repo id"
python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o["status"] == "error" and o["error"]["message"] and o["error"]["class"] == "invalid", o
' "$OUT"
ok $? "--json error: status error, class and message"
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
grep -q 'no config.json' "$ERR" && st=1 || st=0
ok $st "does not claim config.json is missing"

# --list-backends
run list --list-backends
expect_rc 0 "--list-backends"
grep -qE '^dryrun +[^ ].*\[plan\]$' "$OUT"
ok $? "--list-backends: dryrun with a description and [plan]"
for b in http git; do
	if grep -q "^$b " "$OUT"; then
		grep -qE "^$b +[^ ].*\[network[a-z,]*\]$" "$OUT"
		ok $? "--list-backends: $b with a description and its capabilities"
	fi
done

# login/logout
run login-dryrun login --backend dryrun --token "$SENTINEL"
expect_rc 1 "login with --backend dryrun is refused"
has "$ERR" "dryrun" "login refusal names the backend"
has "$ERR" "cannot check a token" "login refusal says why"
[ ! -e "$XDG_CONFIG_HOME/mspublish/login" ]
ok $? "nothing stored by a refused login"
run logout logout
expect_rc 0 "logout with nothing stored"
[ ! -e "$XDG_CONFIG_HOME/mspublish/login" ]
ok $? "logout leaves no file"
mkdir -p "$XDG_CONFIG_HOME/mspublish"
printf '%s\n' "$SENTINEL" >"$XDG_CONFIG_HOME/mspublish/login"
chmod 600 "$XDG_CONFIG_HOME/mspublish/login"
(unset MODELSCOPE_API_TOKEN && run stored-show --show-config)
grep -qE "^token +set \(from $XDG_CONFIG_HOME/mspublish/login\)$" "$T/out/stored-show.out"
ok $? "a stored login is used: set (from its file)"
run logout-stored logout
expect_rc 0 "logout"
[ ! -e "$XDG_CONFIG_HOME/mspublish/login" ]
ok $? "logout removes the stored login"

# the folder was only read by all of the above
listing "$M" >"$T/after.txt"
if cmp -s "$T/before.txt" "$T/after.txt"; then
	ok 0 "the model folder is untouched (names, sizes, mtimes, modes, SHA-256)"
else
	ok 1 "the model folder is untouched"
	diff "$T/before.txt" "$T/after.txt" | sed 's/^/#   /'
fi

finish
