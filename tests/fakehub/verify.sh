#!/bin/bash
# SPDX-License-Identifier: MIT
# verify.sh URL REPO_ID FOLDER [PATH_IN_REPO] [options]
#
# Clones URL/REPO_ID.git with stock git + git-lfs into a temporary directory,
# pulls the LFS content and compares every file under PATH_IN_REPO (default:
# the repo root) byte for byte with FOLDER.
#
# Options:
#   --revision REV   branch, tag (default: the remote's default branch)
#   --allow-extra    files in the repo that FOLDER lacks are not an error
#   --ignore GLOB    skip local files whose relative path matches GLOB
#                    (fnmatch, '*' crosses '/'); repeatable
#   --no-default-ignores
#                    do not skip the uploader's default ignores (.git, .cache
#                    dirs; .ms_upload_cache, .ms_upload_progress files)
#
# The token, if any, is read from MODELSCOPE_API_TOKEN and handed to git and
# git-lfs through a credential helper (user oauth2); it is never printed.
# The root .gitattributes of the repo is neither compared nor an "extra".
# Every git-lfs pointer file of the clone (under PATH_IN_REPO) must have the
# lfs filter (git check-attr), else stock git checks it out as pointer text:
# each one is a difference ("not lfs-tracked: P").
# Prints "N files identical" and exits 0; else lists each difference and
# exits 1.  Exit 2: usage error or clone failure.
set -u

usage() {
    sed -n '3,25p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

args=() rev= allow_extra=0 default_ignores=1 ignores=()
while [ $# -gt 0 ]; do
    case $1 in
        --revision) [ $# -ge 2 ] || usage; rev=$2; shift 2 ;;
        --revision=*) rev=${1#--revision=}; shift ;;
        --allow-extra) allow_extra=1; shift ;;
        --ignore) [ $# -ge 2 ] || usage; ignores+=("$2"); shift 2 ;;
        --no-default-ignores) default_ignores=0; shift ;;
        -h|--help) usage ;;
        --) shift; args+=("$@"); break ;;
        -*) echo "verify.sh: unknown option $1" >&2; usage ;;
        *) args+=("$1"); shift ;;
    esac
done
[ ${#args[@]} -ge 3 ] && [ ${#args[@]} -le 4 ] || usage
url=${args[0]%/} repo=${args[1]} folder=${args[2]} prefix=${args[3]:-}
if [ ! -d "$folder" ]; then
    echo "verify.sh: $folder is not a directory" >&2
    exit 2
fi
folder=$(cd "$folder" && pwd) || exit 2

work=$(mktemp -d "${TMPDIR:-/tmp}/verify.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/home"
export HOME=$work/home GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0 \
    GIT_LFS_SKIP_SMUDGE=1 GIT_ASKPASS=/bin/false SSH_ASKPASS=/bin/false
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE
# The helper reads the token from the environment at run time, so it never
# appears on a command line or in a config file.
helper='!f() { test "$1" = get || exit 0; echo username=oauth2; echo "password=${MODELSCOPE_API_TOKEN:-}"; }; f'
git config --global credential.helper "$helper"
git config --global user.name verify
git config --global user.email verify@localhost
git config --global init.defaultBranch master
git config --global core.quotePath false

mask() {
    if [ -n "${MODELSCOPE_API_TOKEN:-}" ]; then
        sed "s|${MODELSCOPE_API_TOKEN//|/\\|}|***|g"
    else
        cat
    fi
}

clone_args=(clone -q)
[ -n "$rev" ] && clone_args+=(--branch "$rev")
if ! git "${clone_args[@]}" "$url/$repo.git" "$work/clone" \
        > "$work/clone.log" 2>&1; then
    echo "verify.sh: git clone of $url/$repo.git failed:" >&2
    mask < "$work/clone.log" >&2
    exit 2
fi
cd "$work/clone" || exit 2
if ! git rev-parse -q --verify HEAD > /dev/null; then
    echo "verify.sh: $repo has no commits${rev:+ on $rev}" >&2
fi
git lfs install --local > /dev/null 2>&1
if ! git lfs pull > "$work/lfs.log" 2>&1; then
    echo "verify.sh: git lfs pull failed:" >&2
    mask < "$work/lfs.log" >&2
    exit 2
fi
cd / || exit 2

python3 - "$folder" "$work/clone" "$prefix" "$allow_extra" \
    "$default_ignores" "${ignores[@]+"${ignores[@]}"}" <<'PY'
import fnmatch, os, re, subprocess, sys

folder, clone, prefix, allow_extra, default_ign = sys.argv[1:6]
ignores = sys.argv[6:]
prefix = prefix.strip("/")
allow_extra = allow_extra == "1"
if default_ign == "1":
    ignores += [".git", ".git/*", "*/.git", "*/.git/*", ".cache", ".cache/*",
                "*/.cache", "*/.cache/*", ".ms_upload_cache",
                "*/.ms_upload_cache", ".ms_upload_progress",
                "*/.ms_upload_progress"]


def walk(top, skip_git):
    out = {}
    for dirpath, dirnames, filenames in os.walk(top):
        rel_dir = os.path.relpath(dirpath, top)
        rel_dir = "" if rel_dir == "." else rel_dir
        if skip_git and rel_dir == "":
            dirnames[:] = [d for d in dirnames if d != ".git"]
        for fn in filenames + [d for d in dirnames
                               if os.path.islink(os.path.join(dirpath, d))
                               and os.path.isfile(os.path.join(dirpath, d))]:
            p = os.path.join(dirpath, fn)
            if not os.path.isfile(p):
                continue
            out[(rel_dir + "/" + fn) if rel_dir else fn] = p
    return out


local = {r: p for r, p in walk(folder, False).items()
         if not any(fnmatch.fnmatch(r, g) for g in ignores)}
remote_all = walk(clone, True)
remote = {}
for r, p in remote_all.items():
    if prefix:
        if not r.startswith(prefix + "/"):
            continue
        r = r[len(prefix) + 1:]
    elif r == ".gitattributes":
        continue
    remote[r] = p

problems = []
same = 0

# Pointer files (in HEAD's tree) that would be checked out without the lfs
# filter: their .gitattributes line is missing.
POINTER = re.compile(rb"^version https://git-lfs\.github\.com/spec/v1\n"
                     rb"(?:[a-z0-9.-]+ [^\n]*\n)*?oid sha256:[0-9a-f]{64}\n"
                     rb"size [0-9]+\n(?:[a-z0-9.-]+ [^\n]*\n)*$")


def git_out(*args, data=None):
    return subprocess.run(["git"] + list(args), cwd=clone, input=data,
                          stdout=subprocess.PIPE, check=True).stdout


ptrs = []
if subprocess.run(["git", "rev-parse", "-q", "--verify", "HEAD"], cwd=clone,
                  stdout=subprocess.DEVNULL).returncode == 0:
    small = []
    for rec in git_out("ls-tree", "-r", "-l", "-z", "HEAD").split(b"\0"):
        if not rec:
            continue
        meta, path = rec.split(b"\t", 1)
        _mode, typ, sha_, size = meta.split()
        path = path.decode("utf-8", "surrogateescape")
        if typ == b"blob" and int(size) <= 1024 and (
                not prefix or path.startswith(prefix + "/")):
            small.append((sha_, path))
    if small:
        out = git_out("cat-file", "--batch",
                      data=b"".join(s + b"\n" for s, _ in small))
        pos = 0
        for sha_, path in small:
            nl = out.index(b"\n", pos)
            n = int(out[pos:nl].split()[2])
            if POINTER.match(out[nl + 1:nl + 1 + n]):
                ptrs.append(path)
            pos = nl + 1 + n + 1
if ptrs:
    out = git_out("check-attr", "-z", "filter", "--stdin",
                  data=b"".join(p.encode("utf-8", "surrogateescape") + b"\0"
                                for p in ptrs)).split(b"\0")
    for i in range(0, len(out) - 2, 3):
        if out[i + 2] != b"lfs":
            problems.append("not lfs-tracked: %s (an LFS pointer without "
                            "the lfs filter in .gitattributes; checked out "
                            "as pointer text)" %
                            out[i].decode("utf-8", "surrogateescape"))
for r in sorted(local):
    if r not in remote:
        problems.append("missing in repo: %s" % r)
        continue
    a, b = local[r], remote[r]
    sa, sb = os.path.getsize(a), os.path.getsize(b)
    if sa != sb:
        problems.append("differs: %s (local %d bytes, repo %d bytes)" %
                        (r, sa, sb))
        continue
    with open(a, "rb") as fa, open(b, "rb") as fb:
        off = 0
        while True:
            x, y = fa.read(1 << 20), fb.read(1 << 20)
            if x != y:
                i = next(i for i in range(min(len(x), len(y)) + 1)
                         if i >= len(x) or i >= len(y) or x[i] != y[i])
                problems.append("differs: %s (first difference at byte %d)"
                                % (r, off + i))
                break
            if not x:
                same += 1
                break
            off += len(x)
for r in sorted(set(remote) - set(local)):
    if not allow_extra:
        problems.append("extra in repo: %s" % r)
for p in problems:
    print(p)
if problems:
    print("%d difference(s), %d files identical" % (len(problems), same))
    sys.exit(1)
print("%d files identical" % same)
PY
