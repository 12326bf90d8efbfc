#!/bin/bash
# SPDX-License-Identifier: MIT
# CLI checks of core bugs not fixed yet (Bn in the lead's bug list). NOT
# registered with meson test; run by hand:
#   MSPUBLISH_BIN=<build>/core/mspublish bash tests/cli/pending.sh
# When a check passes, move it into the script named in its comment.
. "$(dirname "$0")/lib.sh"

M=$T/model
make_model "$M"

# B13 (-> config.sh ini_error): a misspelt section is an error
printf '[mspublsh]\nrepo-id = x/y\n' >"$T/bad.ini"
run typo-section --config "$T/bad.ini" --backend dryrun --repo-id a/b --model-dir "$M"
expect_rc 1 "B13: [mspublsh] is refused"
has "$ERR" "$T/bad.ini:" "B13: names file:line"
hasnt "$ERR" "Publishing" "B13: nothing published"

# B12 (-> dryrun.sh logout): logout with nothing stored says so
run logout logout
expect_rc 0 "B12: logout with nothing stored"
hasnt "$OUT" "removed" "B12: does not claim to have removed a file"

# B14 (-> args.sh usage errors): a mistyped --token=VALUE is not echoed
run typo-token "--tokn=$SENTINEL" --repo-id a/b
expect_rc 1 "B14: --tokn=... refused"
hasnt "$ERR" "$SENTINEL" "B14: the value of an unknown --opt=value is not printed"
rm -f "$T/out/typo-token.err"

# B16 (-> args.sh/config.sh): --json prints one JSON object even when the
# settings themselves are wrong
for args in "--jobs 0" "--config $T/missing.ini" "--bogus"; do
	# shellcheck disable=SC2086
	run json-usage --json $args
	expect_rc 1 "B16: --json $args fails"
	if python3 -c 'import json, sys; o = json.load(open(sys.argv[1])); assert o["status"] == "error"' "$OUT" 2>/dev/null; then
		ok 0 "B16: --json $args: a JSON error object on stdout"
	else
		ok 1 "B16: --json $args: a JSON error object on stdout"
	fi
done

finish
