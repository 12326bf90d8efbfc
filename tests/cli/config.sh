#!/bin/bash
# SPDX-License-Identifier: MIT
# CLI: the settings file, profiles, --show-config and its origins, INI
# errors naming file:line, the token never shown.
. "$(dirname "$0")/lib.sh"

M=$T/model
make_model "$M"
INI=$T/settings.ini

# --show-config: every setting with its origin
cat >"$INI" <<INI
[mspublish]
repo-id = file-owner/file-repo
jobs = 7
include = *.json
include = *.safetensors
[dryrun]
retries = 2
[profile staging]
repo-id = stage/repo
endpoint = 127.0.0.1:8000/
INI
chmod 600 "$INI"
MODELSCOPE_API_TOKEN=$SENTINEL MODEL_DIR=$M \
	run show --config "$INI" --revision dev --show-config
expect_rc 0 "--show-config"
has "$OUT" "settings file: $INI" "show: names the settings file"
if grep -qE "^backend +http \(from default\)$" "$OUT"; then ok 0 "show: backend from default"; else ok 1 "show: backend from default"; fi
if grep -qE "^repo-id +file-owner/file-repo \(from $INI:2\)$" "$OUT"; then ok 0 "show: repo-id from file:line"; else ok 1 "show: repo-id from file:line"; fi
if grep -qE "^jobs +7 \(from $INI:3\)$" "$OUT"; then ok 0 "show: jobs from file:line"; else ok 1 "show: jobs from file:line"; fi
if grep -qE "^include +\*\.json,\*\.safetensors \(from $INI:5\)$" "$OUT"; then ok 0 "show: a list accumulates within the file"; else ok 1 "show: a list accumulates within the file"; fi
if grep -qE "^model-dir +$M \(from MODEL_DIR\)$" "$OUT"; then ok 0 "show: model-dir from MODEL_DIR"; else ok 1 "show: model-dir from MODEL_DIR"; fi
if grep -qE "^revision +dev \(from --revision\)$" "$OUT"; then ok 0 "show: revision from --revision"; else ok 1 "show: revision from --revision"; fi
if grep -qE "^token +set \(from MODELSCOPE_API_TOKEN\)$" "$OUT"; then ok 0 "show: token shown only as set (from MODELSCOPE_API_TOKEN)"; else ok 1 "show: token shown only as set (from MODELSCOPE_API_TOKEN)"; fi
if grep -qE "^\[dryrun\] retries +2 \(from $INI:7\)$" "$OUT"; then ok 0 "show: the [dryrun] section"; else ok 1 "show: the [dryrun] section"; fi
hasnt "$OUT" "stage/repo" "show: an unselected profile is not applied"
for k in backend repo-id model-dir token commit-message endpoint revision path-in-repo \
	include exclude jobs hash delete no-create visibility license retries timeout \
	git-url force plugin-dir json quiet verbose strict; do
	if grep -qE "^$k " "$OUT"; then ok 0 "show: lists $k"; else ok 1 "show: lists $k"; fi
done
empty "$ERR" "show: nothing on stderr (the file is 0600)"

# flags beat the environment, which beats the file; with a profile
MODELSCOPE_ENDPOINT=http://127.0.0.1:9999 \
	run profile --config "$INI" --profile staging --token "$SENTINEL" --jobs 3 --show-config
expect_rc 0 "--profile staging"
if grep -qE "^repo-id +stage/repo \(from $INI:9\)$" "$OUT"; then ok 0 "profile: its repo-id wins over [mspublish]"; else ok 1 "profile: its repo-id wins over [mspublish]"; fi
if grep -qE "^endpoint +http://127.0.0.1:9999 \(from MODELSCOPE_ENDPOINT\)$" "$OUT"; then ok 0 "profile: the environment beats the profile"; else ok 1 "profile: the environment beats the profile"; fi
if grep -qE "^jobs +3 \(from --jobs\)$" "$OUT"; then ok 0 "profile: a flag beats the file"; else ok 1 "profile: a flag beats the file"; fi
if grep -qE "^token +set \(from --token\)$" "$OUT"; then ok 0 "profile: token set (from --token)"; else ok 1 "profile: token set (from --token)"; fi
MSPUBLISH_PROFILE=staging run profile-env --config "$INI" --show-config
if grep -qE "^endpoint +https://127.0.0.1:8000 \(from $INI:10\)$" "$OUT"; then ok 0 "MSPUBLISH_PROFILE selects the profile; endpoint normalised"; else ok 1 "MSPUBLISH_PROFILE selects the profile; endpoint normalised"; fi
run no-profile --config "$INI" --profile prod --show-config
expect_rc 1 "--profile prod (absent)"
has "$ERR" 'profile "prod" not found' "missing profile: named"
empty "$OUT" "missing profile: nothing on stdout"

# a token in the file: shown as set (from file:line); a warning unless 0600
TOKINI=$T/token.ini
printf '[mspublish]\nrepo-id = a/b\ntoken = %s\n' "$SENTINEL" >"$TOKINI"
SENTINEL_OK+=("$TOKINI")
chmod 600 "$TOKINI"
run token-file --config "$TOKINI" --show-config
expect_rc 0 "token in a 0600 file"
if grep -qE "^token +set \(from $TOKINI:3\)$" "$OUT"; then ok 0 "token from the file: set (from file:line)"; else ok 1 "token from the file: set (from file:line)"; fi
hasnt "$ERR" "WARNING" "0600 file: no warning"
chmod 640 "$TOKINI"
run token-file-640 --config "$TOKINI" --show-config
expect_rc 0 "token in a group-readable file"
has "$ERR" "WARNING: " "group-readable token file: a warning"
has "$ERR" "$TOKINI" "the warning names the file"
has "$ERR" "chmod 600" "the warning says what to do"
chmod 604 "$TOKINI"
run token-file-604 --config "$TOKINI" --show-config
has "$ERR" "WARNING: " "world-readable token file: a warning"
chmod 644 "$INI"
run no-token-644 --config "$INI" --show-config
hasnt "$ERR" "WARNING" "a readable file without a token: no warning"

# INI errors: exit 1, file:line and the key, nothing else happens
ini_error() { # ini_error NAME WANT TEXT
	printf '%b' "$3" >"$T/bad.ini"
	run "$1" --config "$T/bad.ini" --backend dryrun --repo-id a/b --model-dir "$M"
	expect_rc 1 "$1"
	has "$ERR" "ERROR: $T/bad.ini:$2" "$1: names file:line and the key ($2)"
	hasnt "$ERR" "Publishing" "$1: nothing published"
	empty "$OUT" "$1: nothing on stdout"
}
ini_error unknown-key "3: repoid: unknown key" '[mspublish]\njobs = 2\nrepoid = x/y\n'
ini_error bad-section "2: [Upload Settings]: unknown section" '[Upload Settings]\nrepo-id = x/y\n'
# a misspelt [mspublish] must stop the run, not be taken for a backend
ini_error typo-section "2: [mspublsh]: unknown section" '[mspublsh]\nrepo-id = x/y\n'
has "$ERR" "dryrun" "typo-section: lists the backends there are"
ini_error typo-backend "3: [htttp]: unknown section" '[mspublish]\n[htttp]\nretries = 1\n'
ini_error continued "3: commit-message: " '[mspublish]\ncommit-message = one\n  two\n'
ini_error outside "1: jobs: key outside a section" 'jobs = 2\n'
ini_error bad-bool "2: hash: expected true or false" '[mspublish]\nhash = sure\n'
ini_error bad-int "2: retries: expected a whole number" '[mspublish]\nretries = lots\n'
ini_error config-key "2: config: cannot be set in a settings file" '[mspublish]\nconfig = x.ini\n'
ini_error syntax "4: syntax error" '[mspublish]\n; fine\njobs = 2\nnot a key value line\n'

# which file: --config, MSPUBLISH_CONFIG, XDG_CONFIG_HOME, ~/.config
run missing-config --config "$T/missing.ini" --show-config
expect_rc 1 "--config missing.ini"
has "$ERR" "$T/missing.ini" "--config missing: names the file"
has "$ERR" "--config" "--config missing: says where the name came from"
MSPUBLISH_CONFIG=$T/missing-env.ini run missing-env-config --show-config
expect_rc 1 "MSPUBLISH_CONFIG=missing"
has "$ERR" "MSPUBLISH_CONFIG" "MSPUBLISH_CONFIG missing: says where the name came from"
MSPUBLISH_CONFIG=$INI run env-config --show-config
expect_rc 0 "MSPUBLISH_CONFIG"
has "$OUT" "settings file: $INI" "MSPUBLISH_CONFIG is read"
printf '[mspublish]\nrepo-id = from/flag-file\n' >"$T/other.ini"
MSPUBLISH_CONFIG=$INI run flag-config --config "$T/other.ini" --show-config
if grep -qE "^repo-id +from/flag-file " "$OUT"; then ok 0 "--config beats MSPUBLISH_CONFIG"; else ok 1 "--config beats MSPUBLISH_CONFIG"; fi

mkdir -p "$XDG_CONFIG_HOME/mspublish" "$HOME/.config/mspublish"
printf '[mspublish]\nrepo-id = from/xdg\n' >"$XDG_CONFIG_HOME/mspublish/mspublish.ini"
printf '[mspublish]\nrepo-id = from/home\n' >"$HOME/.config/mspublish/mspublish.ini"
(unset MSPUBLISH_CONFIG && run xdg --show-config)
OUT=$T/out/xdg.out
if grep -qE "^repo-id +from/xdg \(from $XDG_CONFIG_HOME/mspublish/mspublish.ini:2\)$" "$OUT"; then ok 0 "XDG_CONFIG_HOME/mspublish/mspublish.ini is found"; else ok 1 "XDG_CONFIG_HOME/mspublish/mspublish.ini is found"; fi
(unset MSPUBLISH_CONFIG XDG_CONFIG_HOME && run home-config --show-config)
OUT=$T/out/home-config.out
if grep -qE "^repo-id +from/home " "$OUT"; then ok 0 "without XDG_CONFIG_HOME: ~/.config/mspublish/mspublish.ini"; else ok 1 "without XDG_CONFIG_HOME: ~/.config/mspublish/mspublish.ini"; fi

# the shipped config/mspublish.ini parses and holds the seed's defaults
if [ -n "${MSPUBLISH_TOP_SRCDIR:-}" ] && [ -f "$MSPUBLISH_TOP_SRCDIR/config/mspublish.ini" ]; then
	SHIPPED=$MSPUBLISH_TOP_SRCDIR/config/mspublish.ini
	run shipped --config "$SHIPPED" --show-config
	expect_rc 0 "config/mspublish.ini parses"
	if grep -qE "^repo-id +YukinoStuki/Qwen3-4B-Plus-LLM-AWQ \(from " "$OUT"; then ok 0 "shipped: the seed's repo"; else ok 1 "shipped: the seed's repo"; fi
	if grep -qE "^model-dir +model/YukinoStuki/Qwen3-4B-Plus-LLM-AWQ \(from " "$OUT"; then ok 0 "shipped: the seed's folder"; else ok 1 "shipped: the seed's folder"; fi
	if grep -qE "^commit-message +upload model folder " "$OUT"; then ok 0 "shipped: the seed's commit message"; else ok 1 "shipped: the seed's commit message"; fi
	if grep -qE "^backend +http " "$OUT"; then ok 0 "shipped: backend http"; else ok 1 "shipped: backend http"; fi
fi

# a [backend] section's values reach that backend; env and flags still win
if have_backend dryrun; then
	M=$T/sect-model
	make_model "$M"
	printf '[mspublish]\ncommit-message = general\npath-in-repo = gen\n[dryrun]\ncommit-message = from the section\npath-in-repo = /sec/\n' >"$T/sect.ini"
	run sect --config "$T/sect.ini" --backend dryrun --repo-id a/b --model-dir "$M" --json
	expect_rc 0 "[dryrun] section run"
	has "$OUT" '"message":"from the section"' "[dryrun] commit-message is used"
	has "$OUT" '"path_in_repo":"sec"' "[dryrun] path-in-repo is used, cleaned"
	run sect-flag --config "$T/sect.ini" --backend dryrun --repo-id a/b --model-dir "$M" \
		--json --commit-message flag
	has "$OUT" '"message":"flag"' "--commit-message beats the [dryrun] section"
fi

# --show-config scrubs what it prints like every other output: a password
# in a URL never shows
run userinfo --endpoint "https://bob:pw-$SENTINEL@hub.example.org" \
	--git-url "https://bob:pw-$SENTINEL@git.example.org/a/b.git" --show-config
expect_rc 0 "--show-config with credentials in URLs"
hasnt "$OUT" "pw-$SENTINEL" "--show-config prints no URL password"
has "$OUT" "hub.example.org" "--show-config still names the host"

finish
