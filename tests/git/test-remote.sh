#!/bin/bash
# SPDX-License-Identifier: MIT
# git backend against a remote that already has content: files and
# .gitattributes kept and merged (the remote's LFS file pushed by stock
# git-lfs), then --delete, --path-in-repo, --revision to a new branch.
. "$(dirname "$0")/lib.sh" "$1"

start_hub

# An upstream commit made with stock git + git-lfs (credential helper
# reads the token from the environment: never on a command line).
U=$T/upstream
mkdir -p "$U"
(
    export GIT_CONFIG_GLOBAL=$T/upstream.gitconfig GIT_CONFIG_NOSYSTEM=1
    export GIT_TERMINAL_PROMPT=0 MODELSCOPE_API_TOKEN=$TOKEN
    git config --global credential.helper \
        '!f() { test "$1" = get || exit 0; echo username=oauth2; echo "password=$MODELSCOPE_API_TOKEN"; }; f'
    git config --global user.name upstream
    git config --global user.email upstream@localhost
    cd "$U" && git init -q -b master . && git lfs install --local >/dev/null &&
    printf '*.pt filter=lfs diff=lfs merge=lfs -text\n*.md text eol=lf\n' \
        > .gitattributes &&
    printf 'upstream readme\n' > README.md &&
    mkdir notes && printf 'keep me\n' > notes/keep.txt &&
    head -c 200000 /dev/urandom > weights.pt &&
    git add -A && git commit -q -m upstream &&
    git push -q "$HUB_URL/alice/merged.git" master:master
) > "$T/out/upstream.log" 2>&1
check "upstream: stock git + git-lfs pushed a first commit" \
    [ -n "$(hub_ref alice/merged)" ]

M=$T/model
mkdir -p "$M"
printf '{"a": 1}\n' > "$M/config.json"
printf 'tok\n' > "$M/tokenizer.pt"          # covered by *.pt already
head -c 1200000 /dev/urandom > "$M/model.safetensors"
printf 'extra\n' > "$M/extra.txt"

ms merge --repo-id alice/merged --model-dir "$M"
expect_rc 0 merge
check "merge: a commit on top of upstream's" \
    [ "$(commits_on alice/merged)" = 2 ]
for f in README.md notes/keep.txt weights.pt; do
    check "merge: upstream's $f kept" \
        git --git-dir="$T/hub/repos/alice/merged.git" cat-file -e \
        "master:$f"
done
ga=$(hub_show alice/merged master:.gitattributes)
check "merge: upstream's .gitattributes lines kept first" \
    [ "$(head -n 2 <<< "$ga")" = "$(printf '*.pt filter=lfs diff=lfs merge=lfs -text\n*.md text eol=lf')" ]
check "merge: the new LFS file is tracked by path" \
    grep -qxF '/model.safetensors filter=lfs diff=lfs merge=lfs -text' \
    <<< "$ga"
check "merge: no line for tokenizer.pt (covered by *.pt)" \
    bash -c "! grep -q tokenizer <<< '$ga'"
check "merge: tokenizer.pt went in as a pointer" \
    grep -q '^oid sha256:' <<< "$(hub_show alice/merged master:tokenizer.pt)"
verify merge alice/merged "$M" --allow-extra
# upstream's own LFS object still downloads
mkdir -p "$T/up2" && cp "$U/README.md" "$U/weights.pt" "$T/up2/" &&
    mkdir -p "$T/up2/notes" && cp "$U/notes/keep.txt" "$T/up2/notes/"
verify merge-upstream alice/merged "$T/up2" --allow-extra

# --delete: remote files absent locally go; a file only filtered out stays
rm "$M/config.json"
ms delete --repo-id alice/merged --model-dir "$M" --delete \
    --exclude extra.txt
expect_rc 0 delete
for f in config.json README.md notes/keep.txt weights.pt; do
    check "delete: $f removed" bash -c "! git --git-dir='$T/hub/repos/alice/merged.git' cat-file -e 'master:$f' 2>/dev/null"
done
check "delete: extra.txt (excluded, still local) kept" \
    git --git-dir="$T/hub/repos/alice/merged.git" cat-file -e \
    master:extra.txt
check "delete: .gitattributes kept" \
    git --git-dir="$T/hub/repos/alice/merged.git" cat-file -e \
    master:.gitattributes
verify delete alice/merged "$M"

# --path-in-repo: only under the prefix, with --delete limited to it
P=$T/lora
mkdir -p "$P"
printf '{"r": 8}\n' > "$P/adapter_config.json"
head -c 1100000 /dev/urandom > "$P/adapter_model.safetensors"
ms prefix --repo-id alice/merged --model-dir "$P" --path-in-repo lora/v1 \
    --delete
expect_rc 0 prefix
verify prefix alice/merged "$P" lora/v1 --allow-extra
verify prefix-root alice/merged "$M"  --ignore 'lora/*' --allow-extra
check "prefix: root files untouched by --delete under lora/v1" \
    git --git-dir="$T/hub/repos/alice/merged.git" cat-file -e \
    master:model.safetensors
check "prefix: the LFS path is tracked with its prefix" \
    grep -qxF 'lora/v1/adapter_model.safetensors filter=lfs diff=lfs merge=lfs -text' \
    <<< "$(hub_show alice/merged master:.gitattributes)"

# --revision to a new branch: master does not move
tip=$(hub_ref alice/merged)
ms branch --repo-id alice/merged --model-dir "$P" --revision dev
expect_rc 0 branch
check "branch: dev exists" [ -n "$(hub_ref alice/merged dev)" ]
check "branch: master did not move" [ "$(hub_ref alice/merged)" = "$tip" ]
verify branch alice/merged "$P" --revision dev
ms branch2 --repo-id alice/merged --model-dir "$P" --revision dev
expect_err branch2 'Nothing to upload'
# a folder with its own .gitattributes, on a repo whose LFS files are not
# all in the folder: the kept pointers stay tracked (verify.sh checks
# every pointer with git check-attr)
X=$T/x
mkdir -p "$X"
head -c 1200000 /dev/urandom > "$X/keep.safetensors"
printf '{"x": 1}\n' > "$X/a.json"
ms own1 --repo-id alice/own --model-dir "$X" --visibility public
expect_rc 0 own1
Y=$T/y
mkdir -p "$Y"
printf '*.json text eol=lf\n' > "$Y/.gitattributes"
printf '{"y": 2}\n' > "$Y/a.json"
head -c 1100000 /dev/urandom > "$Y/new.safetensors"
ms own2 --repo-id alice/own --model-dir "$Y"
expect_rc 0 own2
ga=$(hub_show alice/own master:.gitattributes)
check "own: the folder's .gitattributes line comes first" \
    [ "$(head -n 1 <<< "$ga")" = '*.json text eol=lf' ]
check "own: the kept remote LFS file is still tracked" \
    grep -qxF '/keep.safetensors filter=lfs diff=lfs merge=lfs -text' \
    <<< "$ga"
check "own: the new LFS file is tracked" \
    grep -qxF '/new.safetensors filter=lfs diff=lfs merge=lfs -text' \
    <<< "$ga"
verify own alice/own "$Y" --allow-extra --ignore .gitattributes
git_finish
