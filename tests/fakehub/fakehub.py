#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""fakehub: a local ModelScope hub for mspublish's tests and demo.

Usage:
  fakehub.py --port 0 --data DIR --token TOKEN [--log FILE] [--fault SPEC ...]
             [--blob-store-url URL --blob-store-dir DIR] [--user NAME]
             [--deny-token-delete]

Binds 127.0.0.1 only and prints its base URL (http://127.0.0.1:PORT) as the
first line on stdout.  SIGTERM/SIGINT stop it with exit status 0.

Storage under DATA:
  repos/OWNER/NAME.git    one real bare git repository per model repo
                          (fakehub.json inside holds Visibility, License, ...)
  lfs/objects/aa/bb/OID   LFS objects, git-lfs layout
  tmp/                    partial uploads (same filesystem as lfs/)

Fault SPEC grammar (repeatable --fault):

  METHOD:PATH:KIND[=ARG][:nth=N][:times=once|always|K][:retry_after=S]

  METHOD  GET, POST, PUT, DELETE, ... or * for any.
  PATH    fnmatch glob on the URL path (no query), e.g. /api/v1/repos/*/commit/*
          or, prefixed with ~, a Python regex searched in the path,
          e.g. ~/commit/(master|main)$ .  The path may contain ':'.
  KIND    status=CODE    answer CODE with a legacy JSON error body
                         (429 adds Retry-After: retry_after, default 1)
          reset=N        reset the TCP connection (RST) after N bytes of the
                         request body were received (0 = before any)
          delay=SECONDS  sleep, then handle the request normally
          html=CODE      answer CODE with an HTML page (non-JSON body)
          malformed=CODE answer CODE with a truncated, invalid JSON body
          refs=CODE      the commit error "Could not update refs" (CODE 500
                         or 400) in a legacy JSON body, nothing applied
          drop           read the request, close without any response
  nth     the first matching request that fails (1-based, default 1)
  times   once (default): only the nth; always: nth and every later one;
          K: K requests starting at the nth.

Example: --fault 'POST:/api/v1/repos/*/commit/*:status=503:nth=2:times=once'

The --log FILE is JSONL, one record per request, flushed per line; it never
contains a token.  See README.md for the choices where the protocol is open.
"""

import argparse
import base64
import binascii
import concurrent.futures
import errno
import fnmatch
import hashlib
import http.server
import io
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import uuid

CHUNK = 1 << 20
ZERO_OID = "0" * 40
OID_RE = re.compile(r"^[0-9a-f]{64}$")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
POINTER_RE = re.compile(
    rb"^version https://git-lfs\.github\.com/spec/v1\n"
    rb"(?:[a-z0-9.-]+ [^\n]*\n)*?"
    rb"oid sha256:([0-9a-f]{64})\n"
    rb"size (0|[1-9][0-9]*)\n"
    rb"(?:[a-z0-9.-]+ [^\n]*\n)*$")
POINTER_MAX = 1024
CODE_MODEL_EXISTS = 10010101001
ACTION_KEYS = ("action", "path", "type", "size", "sha256", "content",
               "encoding")
LFS_MEDIA = "application/vnd.git-lfs+json"


class HubError(Exception):
    """An error answered with a legacy (or given) error body."""

    def __init__(self, status, message, code=None, headers=()):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = status if code is None else code
        self.headers = list(headers)


class ResetConnection(Exception):
    pass


class DropConnection(Exception):
    pass


# ---------------------------------------------------------------- git helpers

def git_env(extra=None):
    env = dict(os.environ)
    env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
                "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"})
    for k in ("GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE",
              "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES"):
        env.pop(k, None)
    if extra:
        env.update(extra)
    return env


def git(gitdir, *args, input=None, env=None, check=True):
    p = subprocess.run(["git", "--git-dir=" + gitdir] + list(args),
                       input=input, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=git_env(env))
    if check and p.returncode != 0:
        raise RuntimeError("git %s failed: %s" % (
            args[0], p.stderr.decode("utf-8", "replace").strip()))
    return p


def parse_pointer(data):
    m = POINTER_RE.match(data)
    if not m:
        return None
    return m.group(1).decode(), int(m.group(2))


def make_pointer(oid, size):
    return ("version https://git-lfs.github.com/spec/v1\n"
            "oid sha256:%s\nsize %d\n" % (oid, size)).encode()


def attr_pattern(path):
    """Pattern for one exact path in .gitattributes, escaped like git-lfs
    (space -> [[:space:]], # -> \\#) plus glob metacharacters; root-level
    names are anchored with a leading '/' so they do not match deeper."""
    out = []
    for ch in path:
        if ch == " ":
            out.append("[[:space:]]")
        elif ch in "*?[]\\#!":
            out.append("\\" + ch)
        else:
            out.append(ch)
    pat = "".join(out)
    if "/" not in path:
        pat = "/" + pat
    return pat


LFS_ATTRS = "filter=lfs diff=lfs merge=lfs -text"


def merge_gitattributes(old, add_paths, remove_paths):
    """Return new .gitattributes bytes (or None when unchanged)."""
    text = old.decode("utf-8", "replace") if old else ""
    lines = text.splitlines()
    add = {attr_pattern(p) for p in add_paths}
    remove = {attr_pattern(p) for p in remove_paths} - add
    kept, present = [], set()
    for line in lines:
        parts = line.split()
        if parts and parts[0] in remove and "filter=lfs" in parts[1:]:
            continue
        if parts and parts[0] in add and "filter=lfs" in parts[1:]:
            present.add(parts[0])
        kept.append(line)
    for pat in sorted(add - present):
        kept.append("%s %s" % (pat, LFS_ATTRS))
    new = ("\n".join(kept) + "\n") if kept else ""
    if new == text or (not kept and not text):
        return None
    return new.encode("utf-8")


def strict_path(p):
    """p itself when it is an allowed repo path already in normal form;
    else ValueError (a path the hub would have to normalise is refused:
    clients must not depend on normalisation)."""
    norm = normalise_path(p)
    if norm != p:
        raise ValueError("not in normal form (an empty or '.' component: "
                         "'./', '//' or a trailing '/'); the normal form "
                         "is %r" % norm)
    return p


def normalise_path(p):
    """Normalise a repo path; raise ValueError on a forbidden one."""
    if not isinstance(p, str) or p == "":
        raise ValueError("empty path")
    if "\0" in p or any(ord(c) < 32 for c in p):
        raise ValueError("control character in path")
    if "\\" in p:
        raise ValueError("backslash in path")
    if p.startswith("/"):
        raise ValueError("absolute path")
    parts = []
    for comp in p.split("/"):
        if comp in ("", "."):
            continue
        if comp == "..":
            raise ValueError("'..' in path")
        if comp.lower() == ".git":
            raise ValueError("'.git' in path")
        parts.append(comp)
    if not parts:
        raise ValueError("empty path")
    return "/".join(parts)


# ------------------------------------------------------------------ the hub

class Fault:
    def __init__(self, spec):
        self.spec = spec
        fields = spec.split(":")
        if len(fields) < 3:
            raise ValueError("fault spec needs METHOD:PATH:KIND: %r" % spec)
        self.method = fields[0].upper()
        self.nth, self.times, self.retry_after = 1, 1, 1
        rest = fields[1:]
        while rest and re.match(r"^(nth|times|retry_after)=", rest[-1]):
            k, v = rest.pop().split("=", 1)
            if k == "nth":
                self.nth = int(v)
            elif k == "retry_after":
                self.retry_after = int(v)
            elif v == "once":
                self.times = 1
            elif v == "always":
                self.times = None
            else:
                self.times = int(v)
        if len(rest) < 2:
            raise ValueError("fault spec needs PATH and KIND: %r" % spec)
        kind = rest.pop()
        self.path = ":".join(rest)
        self.kind, _, arg = kind.partition("=")
        kinds = {"status": 500, "reset": 0, "delay": 1.0, "html": 503,
                 "malformed": 200, "refs": 500, "drop": None}
        if self.kind not in kinds:
            raise ValueError("unknown fault kind %r" % self.kind)
        if arg:
            self.arg = float(arg) if self.kind == "delay" else int(arg)
        else:
            self.arg = kinds[self.kind]
        if self.path.startswith("~"):
            self.regex = re.compile(self.path[1:])
        else:
            self.regex = None
        self.count = 0

    def matches(self, method, path):
        if self.method not in ("*", method):
            return False
        if self.regex is not None:
            return self.regex.search(path) is not None
        return fnmatch.fnmatchcase(path, self.path)

    def fire(self):
        """Count one matching request; True when it must fail."""
        self.count += 1
        if self.count < self.nth:
            return False
        return self.times is None or self.count < self.nth + self.times


class Hub:
    def __init__(self, args):
        self.data = os.path.abspath(args.data)
        self.token = args.token
        self.git_token = "gt-" + hashlib.sha256(
            ("fakehub:" + args.token).encode()).hexdigest()[:32]
        self.user = args.user
        self.email = "%s@example.org" % args.user
        self.repos = os.path.join(self.data, "repos")
        self.lfs = os.path.join(self.data, "lfs", "objects")
        self.tmp = os.path.join(self.data, "tmp")
        for d in (self.repos, self.lfs, self.tmp):
            os.makedirs(d, exist_ok=True)
        self.blob_url = args.blob_store_url.rstrip("/") \
            if args.blob_store_url else None
        bd = args.blob_store_dir
        if bd and os.path.exists(os.path.join(bd, "nginx.conf")) \
                and os.path.isdir(os.path.join(bd, "root")):
            bd = os.path.join(bd, "root")      # a blobstore.sh state dir
        self.blob_dir = os.path.abspath(bd) if bd else None
        if bool(self.blob_url) != bool(self.blob_dir):
            raise SystemExit("--blob-store-url and --blob-store-dir go "
                             "together")
        self.faults = [Fault(s) for s in args.fault or []]
        self.deny_token_delete = bool(getattr(args, "deny_token_delete",
                                              False))
        self.fault_lock = threading.Lock()
        self.log_file = open(args.log, "a", encoding="utf-8") \
            if args.log else None
        self.log_lock = threading.Lock()
        self.locks = {}
        self.locks_lock = threading.Lock()
        self.sha_cache = {}
        self.base_url = None

    # -- helpers
    def lock_for(self, key):
        with self.locks_lock:
            lk = self.locks.get(key)
            if lk is None:
                lk = self.locks[key] = threading.Lock()
            return lk

    def log(self, rec):
        if not self.log_file:
            return
        line = json.dumps(rec, ensure_ascii=False, sort_keys=True)
        with self.log_lock:
            self.log_file.write(line + "\n")
            self.log_file.flush()

    def pick_fault(self, method, path):
        with self.fault_lock:
            hit = None
            for f in self.faults:
                if f.matches(method, path) and f.fire() and hit is None:
                    hit = f
            return hit

    def obj_path(self, oid):
        return os.path.join(self.lfs, oid[0:2], oid[2:4], oid)

    def blob_store_path(self, oid):
        return os.path.join(self.blob_dir, "objects", oid)

    def upload_ticket(self, oid):
        """Bearer credential for PUT /lfs-upload/<oid> only, handed to
        git-lfs clients (which authenticate with Basic) in the batch
        answer's header.Authorization."""
        return "lfsput-" + hashlib.sha256(("fakehub-lfs-upload:%s:%s" % (
            self.token, oid)).encode()).hexdigest()[:40]

    def upload_href(self, oid, size):
        if self.blob_url:
            return "%s/objects/%s" % (self.blob_url, oid)
        return "%s/lfs-upload/%s?size=%d" % (self.base_url, oid, size)

    def has_object(self, oid, size=None):
        try:
            st = os.stat(self.obj_path(oid))
        except FileNotFoundError:
            return False
        return size is None or st.st_size == size

    def ensure_object(self, oid, size):
        """(True, '') if the object is stored with that size, importing it
        (verified) from the blob store when needed; else (False, reason)."""
        p = self.obj_path(oid)
        try:
            st = os.stat(p)
            if st.st_size != size:
                return False, "LFS object %s is stored with size %d, not " \
                    "%d" % (oid, st.st_size, size)
            return True, ""
        except FileNotFoundError:
            pass
        if not self.blob_dir:
            return False, "LFS object %s (size %d) not found; upload it " \
                "first" % (oid, size)
        with self.lock_for(("obj", oid)):
            if self.has_object(oid):
                return self.ensure_object(oid, size)
            src = self.blob_store_path(oid)
            try:
                st = os.stat(src)
            except FileNotFoundError:
                return False, "LFS object %s (size %d) not found; upload " \
                    "it first" % (oid, size)
            if st.st_size != size:
                os.unlink(src)
                return False, "LFS object %s: uploaded %d bytes, expected " \
                    "%d" % (oid, st.st_size, size)
            h = hashlib.sha256()
            with open(src, "rb") as f:
                while True:
                    b = f.read(4 * CHUNK)
                    if not b:
                        break
                    h.update(b)
            if h.hexdigest() != oid:
                os.unlink(src)
                return False, "LFS object %s: uploaded content has sha256 " \
                    "%s" % (oid, h.hexdigest())
            os.makedirs(os.path.dirname(p), exist_ok=True)
            try:
                os.replace(src, p)
            except FileNotFoundError:
                # imported meanwhile by another process (pre-receive hook)
                return self.ensure_object(oid, size) if self.has_object(
                    oid) else (False, "LFS object %s vanished during "
                               "import" % oid)
            except OSError as e:
                if e.errno != errno.EXDEV:
                    raise
                tmp = p + ".import.%d" % threading.get_ident()
                shutil.copyfile(src, tmp)
                os.replace(tmp, p)
                os.unlink(src)
            return True, ""

    def ensure_objects(self, objs):
        """ensure_object for every (oid, size), answers (or the first
        exception) in order; the hashing runs on all cores (hashlib lets
        go of the GIL), as a real object store checks a commit's blobs in
        parallel."""
        with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1) as ex:
            return list(ex.map(lambda o: self.ensure_object(*o), objs))

    # -- repositories
    def repo_dir(self, owner, name):
        return os.path.join(self.repos, owner, name + ".git")

    def repo_meta(self, owner, name):
        try:
            with open(os.path.join(self.repo_dir(owner, name),
                                   "fakehub.json"), encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            return None

    def create_repo(self, owner, name, meta):
        """Create the bare repo; False when it already exists."""
        d = self.repo_dir(owner, name)
        with self.lock_for(("repo", owner, name)):
            if os.path.exists(os.path.join(d, "fakehub.json")):
                return False
            os.makedirs(os.path.dirname(d), exist_ok=True)
            tmp = tempfile.mkdtemp(prefix=".new-", dir=os.path.dirname(d))
            subprocess.run(["git", "init", "-q", "--bare",
                            "--initial-branch=master", tmp], check=True,
                           env=git_env(), stdout=subprocess.DEVNULL)
            git(tmp, "config", "http.receivepack", "true")
            git(tmp, "config", "receive.denyNonFastforwards", "false")
            hook = os.path.join(tmp, "hooks", "pre-receive")
            with open(hook, "w") as f:
                f.write(PRE_RECEIVE_SH % {
                    "max": POINTER_MAX, "python": sys.executable,
                    "script": os.path.abspath(__file__)})
            os.chmod(hook, 0o755)
            now = int(time.time())
            meta = dict(meta)
            meta.update({"Id": (hash_id(owner + "/" + name)),
                         "CreatedAt": now, "LastModified": now})
            with open(os.path.join(tmp, "fakehub.json"), "w",
                      encoding="utf-8") as f:
                json.dump(meta, f)
            try:
                os.rename(tmp, d)
            except OSError:
                shutil.rmtree(tmp, ignore_errors=True)
                return False
            return True

    def touch_repo(self, owner, name):
        p = os.path.join(self.repo_dir(owner, name), "fakehub.json")
        meta = self.repo_meta(owner, name) or {}
        meta["LastModified"] = int(time.time())
        tmp = p + ".tmp%d" % threading.get_ident()
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(meta, f)
        os.replace(tmp, p)

    def resolve(self, gitdir, rev):
        """Commit id for a branch, tag or commit id; None if absent."""
        for ref in ("refs/heads/" + rev, "refs/tags/" + rev, rev):
            p = git(gitdir, "rev-parse", "--verify", "-q",
                    ref + "^{commit}", check=False)
            if p.returncode == 0:
                return p.stdout.decode().strip()
        return None

    def tree_entries(self, gitdir, commit):
        """{path: (mode, type, sha, size)} of every blob and tree."""
        out = {}
        if not commit:
            return out
        p = git(gitdir, "ls-tree", "-r", "-t", "-l", "-z", "--full-tree",
                commit)
        for rec in p.stdout.split(b"\0"):
            if not rec:
                continue
            meta, path = rec.split(b"\t", 1)
            mode, typ, sha, size = meta.split()
            out[path.decode("utf-8", "surrogateescape")] = (
                mode.decode(), typ.decode(), sha.decode(),
                int(size) if size != b"-" else 0)
        return out

    def blob_infos(self, gitdir, blobs):
        """{sha1: (is_lfs, size, sha256)} for the given blob sha1s."""
        res, need = {}, []
        for sha, size in blobs:
            c = self.sha_cache.get(sha)
            if c is not None:
                res[sha] = c
            else:
                need.append((sha, size))
        if not need:
            return res
        proc = subprocess.Popen(
            ["git", "--git-dir=" + gitdir, "cat-file", "--batch"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=git_env())

        def feed():
            try:
                for sha, _ in need:
                    proc.stdin.write(sha.encode() + b"\n")
                proc.stdin.close()
            except BrokenPipeError:
                pass
        t = threading.Thread(target=feed, daemon=True)
        t.start()
        out = proc.stdout
        for sha, _ in need:
            hdr = out.readline().split()
            size = int(hdr[2])
            h = hashlib.sha256()
            left, head = size, b""
            while left:
                b = out.read(min(left, 4 * CHUNK))
                if not b:
                    raise RuntimeError("short read from git cat-file")
                if len(head) < POINTER_MAX + 1:
                    head += b[:POINTER_MAX + 1 - len(head)]
                h.update(b)
                left -= len(b)
            out.read(1)
            ptr = parse_pointer(head) if size <= POINTER_MAX else None
            if ptr:
                info = (True, ptr[1], ptr[0])
            else:
                info = (False, size, h.hexdigest())
            self.sha_cache[sha] = info
            res[sha] = info
        t.join()
        proc.wait()
        return res

    def read_blob(self, gitdir, sha):
        return git(gitdir, "cat-file", "blob", sha).stdout

    def commit_changes(self, owner, name, branch, changes, message,
                       fault_refs=None):
        """Apply changes {path: None | ('normal', bytes) | ('lfs', oid,
        size)} on branch atomically; returns (commit id, changed).  A new
        branch starts from the default branch's head (HEAD's branch) when
        that exists.  A commit that leaves the tree as it was makes no
        commit: the current head comes back with changed False."""
        gitdir = self.repo_dir(owner, name)
        with self.lock_for(("repo", owner, name)):
            old = self.resolve_branch(gitdir, branch)
            base = old if old else self.default_head(gitdir)
            entries = self.tree_entries(gitdir, base)
            files = {p: e for p, e in entries.items() if e[1] != "tree"}
            add_lfs, rm_lfs = [], []
            for path, ch in changes.items():
                if ch is None:
                    if path not in files:
                        raise HubError(400, "delete: file %r does not exist "
                                       "on %s" % (path, branch))
                    rm_lfs.append(path)
                elif ch[0] == "lfs":
                    add_lfs.append(path)
                else:
                    rm_lfs.append(path)
            final = {p: e for p, e in files.items() if p not in changes}
            new_blobs = {}
            for path, ch in changes.items():
                if ch is None:
                    continue
                data = ch[1] if ch[0] == "normal" else make_pointer(ch[1],
                                                                    ch[2])
                new_blobs[path] = data
            if ".gitattributes" in changes:
                # the commit deletes or rewrites .gitattributes: keep the
                # lines of every lfs path that stays, or those pointers
                # would be checked out as text
                small = [(e[2], e[3]) for e in final.values()
                         if e[1] == "blob" and e[3] <= POINTER_MAX]
                infos = self.blob_infos(gitdir, small)
                add_lfs += [p for p, e in final.items()
                            if e[2] in infos and infos[e[2]][0]]
            ga_old = None
            if ".gitattributes" in new_blobs:
                ga_old = new_blobs[".gitattributes"]
            elif ".gitattributes" in final:
                ga_old = self.read_blob(gitdir, final[".gitattributes"][2])
            ga_new = merge_gitattributes(ga_old, add_lfs, rm_lfs)
            if ga_new == b"" and ".gitattributes" not in changes:
                # we emptied the file we made: drop it from the tree
                final.pop(".gitattributes", None)
                new_blobs.pop(".gitattributes", None)
            elif ga_new is not None:
                new_blobs[".gitattributes"] = ga_new
            # file/directory conflicts
            all_paths = set(final) | set(new_blobs)
            for p in all_paths:
                i = p.rfind("/")
                while i > 0:
                    if p[:i] in all_paths:
                        raise HubError(400, "path %r conflicts with file %r"
                                       % (p, p[:i]))
                    i = p.rfind("/", 0, i)
            # write blobs
            shas = self.hash_objects(gitdir, list(new_blobs.values()))
            for (path, _), sha in zip(new_blobs.items(), shas):
                final[path] = ("100644", "blob", sha, 0)
            # temporary index -> tree
            fd, index = tempfile.mkstemp(prefix="index-", dir=self.tmp)
            os.close(fd)
            os.unlink(index)
            try:
                env = {"GIT_INDEX_FILE": index}
                info = b"".join(
                    ("%s %s\t" % (e[0], e[2])).encode() +
                    p.encode("utf-8", "surrogateescape") + b"\0"
                    for p, e in sorted(final.items()))
                git(gitdir, "update-index", "-z", "--index-info",
                    input=info, env=env)
                tree = git(gitdir, "write-tree", env=env).stdout.decode(
                    ).strip()
            finally:
                if os.path.exists(index):
                    os.unlink(index)
            if base and tree == git(gitdir, "rev-parse", base + "^{tree}"
                                    ).stdout.decode().strip():
                # nothing changes: no empty commit
                if not old:
                    p = git(gitdir, "update-ref", "-m", "fakehub branch",
                            "refs/heads/" + branch, base, ZERO_OID,
                            check=False)
                    if p.returncode != 0:
                        raise HubError(500, "Could not update refs: %s; "
                                       "please try again" %
                                       p.stderr.decode().strip())
                return base, False
            args = ["commit-tree", tree]
            if base:
                args += ["-p", base]
            now = "%d +0000" % int(time.time())
            cenv = {"GIT_AUTHOR_NAME": self.user,
                    "GIT_AUTHOR_EMAIL": self.email,
                    "GIT_AUTHOR_DATE": now,
                    "GIT_COMMITTER_NAME": self.user,
                    "GIT_COMMITTER_EMAIL": self.email,
                    "GIT_COMMITTER_DATE": now}
            commit = git(gitdir, *args, input=message.encode("utf-8"),
                         env=cenv).stdout.decode().strip()
            p = git(gitdir, "update-ref", "-m", "fakehub commit",
                    "refs/heads/" + branch, commit, old or ZERO_OID,
                    check=False)
            if p.returncode != 0:
                raise HubError(500, "Could not update refs: %s; please try "
                               "again" % p.stderr.decode().strip())
            self.fix_head(gitdir, branch)
            self.touch_repo(owner, name)
            return commit, True

    def default_head(self, gitdir):
        """Head commit of the default branch (what HEAD names), or None."""
        p = git(gitdir, "symbolic-ref", "-q", "HEAD", check=False)
        ref = p.stdout.decode().strip()
        if p.returncode != 0 or not ref.startswith("refs/heads/"):
            return None
        return self.resolve_branch(gitdir, ref[len("refs/heads/"):])

    def resolve_branch(self, gitdir, branch):
        p = git(gitdir, "rev-parse", "--verify", "-q",
                "refs/heads/" + branch, check=False)
        return p.stdout.decode().strip() if p.returncode == 0 else None

    def fix_head(self, gitdir, branch):
        """Point HEAD at branch when HEAD names a branch that is absent."""
        p = git(gitdir, "symbolic-ref", "HEAD", check=False)
        head = p.stdout.decode().strip()
        if not head or git(gitdir, "rev-parse", "--verify", "-q", head,
                           check=False).returncode != 0:
            git(gitdir, "symbolic-ref", "HEAD", "refs/heads/" + branch)

    def hash_objects(self, gitdir, blobs):
        if not blobs:
            return []
        tmpd = tempfile.mkdtemp(prefix="blobs-", dir=self.tmp)
        try:
            names = []
            for i, data in enumerate(blobs):
                fn = os.path.join(tmpd, str(i))
                with open(fn, "wb") as f:
                    f.write(data)
                names.append(fn)
            p = git(gitdir, "hash-object", "-w", "--no-filters",
                    "--stdin-paths", input=("\n".join(names) + "\n").encode())
            shas = p.stdout.decode().split()
            if len(shas) != len(blobs):
                raise RuntimeError("git hash-object returned %d ids for %d "
                                   "blobs" % (len(shas), len(blobs)))
            return shas
        finally:
            shutil.rmtree(tmpd, ignore_errors=True)


def hash_id(s):
    return int(hashlib.sha256(s.encode()).hexdigest()[:7], 16)


# ------------------------------------------------------------- request body

class Body:
    """Streams a request body (Content-Length or chunked)."""

    def __init__(self, handler):
        self.h = handler
        hd = handler.headers
        te = (hd.get("Transfer-Encoding") or "").lower()
        self.chunked = "chunked" in te
        cl = hd.get("Content-Length")
        self.length = None
        if not self.chunked and cl is not None:
            if not re.match(r"^\s*[0-9]+\s*$", cl):
                raise HubError(400, "bad Content-Length")
            self.length = int(cl)
        self.remaining = self.length
        self.chunk_left = 0
        self.done = self.length in (None, 0) and not self.chunked
        self.count = 0
        self.reset_after = None
        self.hasher = None

    @property
    def present(self):
        return self.chunked or bool(self.length)

    def _continue(self):
        if self.h._expect_pending:
            self.h._expect_pending = False
            self.h.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.h.wfile.flush()

    def read(self, n=CHUNK):
        if self.done:
            return b""
        if self.reset_after is not None:
            n = min(n, self.reset_after - self.count)
            if n <= 0:
                raise ResetConnection()
        self._continue()
        rf = self.h.rfile
        if self.chunked:
            if self.chunk_left == 0:
                line = rf.readline(1024)
                try:
                    size = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    raise HubError(400, "bad chunked encoding")
                if size == 0:
                    while True:
                        t = rf.readline(8192)
                        if t in (b"\r\n", b"\n", b""):
                            break
                    self.done = True
                    return b""
                self.chunk_left = size
            b = rf.read(min(n, self.chunk_left))
            if not b:
                raise ConnectionError("client closed during body")
            self.chunk_left -= len(b)
            if self.chunk_left == 0:
                rf.readline(16)
        else:
            b = rf.read(min(n, self.remaining))
            if not b:
                raise ConnectionError("client closed during body")
            self.remaining -= len(b)
            if self.remaining == 0:
                self.done = True
        self.count += len(b)
        if self.hasher is not None:
            self.hasher.update(b)
        return b

    def read_all(self, limit=2 << 30):
        parts, total = [], 0
        while True:
            b = self.read()
            if not b:
                break
            total += len(b)
            if total > limit:
                raise HubError(413, "request body too large")
            parts.append(b)
        return b"".join(parts)

    def drain(self, limit):
        """Read and discard the rest; False if it is more than limit."""
        if self.done:
            return True
        if self.h._expect_pending:
            return False
        if self.length is not None and self.remaining > limit:
            return False
        total = 0
        while True:
            b = self.read()
            if not b:
                return True
            total += len(b)
            if total > limit:
                return False


# ------------------------------------------------------------- the handler

def legacy(data=None, message="success", code=200, rid=""):
    return {"Code": code, "Success": code == 200, "Message": message,
            "RequestId": rid, "Data": data}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakehub/1"
    sys_version = ""
    timeout = 600
    hub = None  # set at start

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        super().setup()
        # Headers and body go out in separate writes; without NODELAY,
        # Nagle holds the body until the client's delayed ACK (40 ms per
        # answer on a kept-alive connection), and that is what a benchmark
        # of any client would then measure.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def version_string(self):
        # the base class appends " " + sys_version: no trailing space
        return self.server_version

    def handle_expect_100(self):
        # Send "100 Continue" lazily, when the body is first read; a request
        # refused before that gets its final answer instead.
        self._expect_pending = True
        return True

    def parse_request(self):
        self._expect_pending = False
        return super().parse_request()

    # -- plumbing
    def _start(self):
        self.t0 = time.time()
        self.status = None
        self.resp_bytes = 0
        self.extra = {}
        self.rid = self.headers.get("X-Request-ID") or uuid.uuid4().hex
        u = urllib.parse.urlsplit(self.path)
        self.rawpath = u.path
        self.upath = urllib.parse.unquote(u.path)
        self.query = urllib.parse.parse_qs(u.query, keep_blank_values=True)
        self.rawquery = u.query
        self.body = None
        self._logged = False
        self.fault_spec = None
        self.auth_kinds, self.auth_ok, self.basic_user = self._auth()

    def q(self, name, default=None):
        v = self.query.get(name)
        return v[0] if v else default

    def _auth(self):
        hub = self.hub
        kinds, ok = [], True
        a = self.headers.get("Authorization") or ""
        user = None
        self.bearer = self.cookie = None
        if a[:7].lower() == "bearer ":
            kinds.append("bearer")
            self.bearer = a[7:].strip()
            ok = ok and self.bearer == hub.token
        elif a[:6].lower() == "basic ":
            kinds.append("basic")
            try:
                dec = base64.b64decode(a[6:].strip(), validate=True).decode()
                user, _, pw = dec.partition(":")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                pw = None
            ok = ok and pw in (hub.token, hub.git_token)
        elif a:
            kinds.append("other")
            ok = False
        cookie = None
        for c in self.headers.get_all("Cookie") or []:
            for part in c.split(";"):
                k, _, v = part.strip().partition("=")
                if k == "m_session_id":
                    cookie = v
        if cookie is not None:
            kinds.append("cookie")
            self.cookie = cookie
            ok = ok and cookie == hub.token
        if not kinds:
            ok = False
        return kinds, ok, user

    def finish_record(self, fault=None):
        """Write the request's log record (once).  Called just before the
        response headers go out, so a client that got an answer can rely
        on its record being in the log; else at the end of the request."""
        if self._logged:
            return
        self._logged = True
        q = {k: v for k, v in self.query.items()}
        for k in list(q):
            if re.search(r"token|secret|password|session|key", k, re.I):
                q[k] = ["***"]
        rec = {"ts": round(self.t0, 6), "method": self.command,
               "path": self.upath, "query": urllib.parse.urlencode(
                   q, doseq=True),
               "status": self.status, "req_bytes":
               self.body.count if self.body else 0,
               "resp_bytes": self.resp_bytes,
               "auth": self.auth_kinds[0] if self.auth_kinds else "none",
               "auth_kinds": self.auth_kinds, "auth_ok": self.auth_ok,
               "request_id": self.rid,
               "ms": int((time.time() - self.t0) * 1000)}
        if fault:
            rec["fault"] = fault
        if self.body is not None and self.body.chunked:
            rec["chunked"] = True
        rec.update(self.extra)
        self.hub.log(rec)

    def _prepare_response(self):
        b = self.body
        if b is not None and not b.done:
            if not b.drain(64 << 20):
                self.close_connection = True

    def send(self, status, body=b"", ctype="application/json",
             headers=()):
        self._prepare_response()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Request-ID", self.rid)
        for k, v in headers:
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.status = status
        self.resp_bytes = len(body)
        self.finish_record(self.fault_spec)
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def send_json(self, status, obj, headers=(), ctype="application/json"):
        self.send(status, json.dumps(obj, ensure_ascii=False).encode(),
                  ctype=ctype, headers=headers)

    def ok(self, data=None, **top):
        body = legacy(data, rid=self.rid)
        body.update(top)
        self.send_json(200, body)

    def parse_range(self, size):
        """The Range header against a body of size bytes: None (serve it
        all), (first, last) inclusive, or "unsatisfiable".  Only one
        bytes range is honoured; anything else (several ranges, other
        units, first > last) is ignored, as RFC 9110 allows."""
        h = self.headers.get("Range")
        if h is None:
            return None
        m = re.match(r"^\s*bytes\s*=\s*([0-9]*)\s*-\s*([0-9]*)\s*$", h)
        if not m or m.group(1) == m.group(2) == "":
            return None
        a, b = m.groups()
        if a == "":                     # suffix: the last b bytes
            n = int(b)
            if n == 0 or size == 0:
                return "unsatisfiable"
            return max(0, size - n), size - 1
        a = int(a)
        if b != "" and int(b) < a:
            return None
        if a >= size:
            return "unsatisfiable"
        return a, size - 1 if b == "" else min(int(b), size - 1)

    def send_content(self, size, opener, ctype="application/octet-stream"):
        """Serve size bytes from opener() (a binary file object), honouring
        a single-range Range header (206 / 416); always Accept-Ranges."""
        rng = self.parse_range(size)
        hdrs = [("Accept-Ranges", "bytes")]
        if rng == "unsatisfiable":
            self.extra["range"] = self.headers.get("Range")
            raise HubError(416, "requested range not satisfiable (size %d)"
                           % size, headers=hdrs + [
                               ("Content-Range", "bytes */%d" % size)])
        status, start, length = 200, 0, size
        if rng is not None:
            status, start, length = 206, rng[0], rng[1] - rng[0] + 1
            hdrs.append(("Content-Range", "bytes %d-%d/%d" % (
                rng[0], rng[1], size)))
            self.extra["range"] = self.headers.get("Range")
        self._prepare_response()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(length))
        self.send_header("X-Request-ID", self.rid)
        for k, v in hdrs:
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.status = status
        self.resp_bytes = length
        self.finish_record(self.fault_spec)
        self.end_headers()
        if self.command == "HEAD" or length == 0:
            return
        with opener() as f:
            f.seek(start)
            left = length
            while left:
                b = f.read(min(left, 4 * CHUNK))
                if not b:
                    raise RuntimeError("file shrank while being served")
                self.wfile.write(b)
                left -= len(b)

    def send_file(self, path, ctype="application/octet-stream"):
        self.send_content(os.path.getsize(path), lambda: open(path, "rb"),
                          ctype)

    def json_body(self):
        raw = self.body.read_all()
        try:
            obj = json.loads(raw.decode("utf-8")) if raw else None
        except (UnicodeDecodeError, ValueError) as e:
            raise HubError(400, "request body is not valid JSON: %s" % e)
        self.extra["body_sha256"] = hashlib.sha256(raw).hexdigest()
        return obj

    def require_auth(self):
        if not self.auth_ok:
            raise HubError(401, "authentication failed: %s" % (
                "no token" if not self.auth_kinds else "invalid token"))

    def reset(self):
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True
        self.status = "reset"
        try:
            self.connection.close()
        except OSError:
            pass

    # -- entry points
    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET

    def dispatch(self):
        self._start()
        fault = self.hub.pick_fault(self.command, self.upath)
        fspec = self.fault_spec = fault.spec if fault else None
        try:
            self.body = Body(self)
            if fault:
                if self.apply_fault(fault):
                    return
            self.route()
        except HubError as e:
            if self.body is None:
                self.close_connection = True  # body framing unknown
            if self.status is None:
                self.error(e)
        except ResetConnection:
            self.reset()
        except DropConnection:
            self.close_connection = True
            self.status = "drop"
        except (ConnectionError, BrokenPipeError, socket.timeout):
            self.close_connection = True
            self.status = self.status or "client-gone"
        except Exception:
            traceback.print_exc()
            if self.status is None:
                try:
                    self.close_connection = True
                    self.error(HubError(500, "internal error"))
                except OSError:
                    pass
        finally:
            self.finish_record(fspec)

    def apply_fault(self, f):
        """True when the fault consumed the request."""
        k = f.kind
        if k == "delay":
            time.sleep(f.arg)
            return False
        if k == "reset":
            self.body.reset_after = f.arg
            if f.arg == 0 or not self.body.present:
                raise ResetConnection()
            while self.body.read():
                pass
            raise ResetConnection()
        if k == "drop":
            self.body.drain(1 << 62)
            raise DropConnection()
        if k == "status":
            hdrs = []
            if f.arg == 429 or f.arg == 503:
                hdrs.append(("Retry-After", str(f.retry_after)))
            self.send_json(f.arg, legacy(None, "injected fault: HTTP %d" %
                                         f.arg, f.arg, self.rid),
                           headers=hdrs)
            return True
        if k == "html":
            page = ("<html><head><title>%d Service Temporarily Unavailable"
                    "</title></head><body><center><h1>%d Service "
                    "Temporarily Unavailable</h1></center><hr><center>"
                    "nginx</center></body></html>\n" % (f.arg, f.arg))
            self.send(f.arg, page.encode(), ctype="text/html")
            return True
        if k == "malformed":
            self.send(f.arg, b'{"Code": 200, "Success": true, "Data": {"oi',
                      ctype="application/json")
            return True
        if k == "refs":
            self.send_json(f.arg, legacy(
                None, "Could not update refs: reference is locked, please "
                "try again", f.arg, self.rid))
            return True
        return False

    def error(self, e):
        hdrs = list(e.headers)
        if e.status == 401 and not any(k == "WWW-Authenticate"
                                       for k, _ in hdrs):
            hdrs.append(("WWW-Authenticate", 'Bearer realm="fakehub"'))
        self.send_json(e.status, legacy(None, e.message, e.code, self.rid),
                       headers=hdrs)

    # -- routing
    GIT_RE = re.compile(r"^/(?:models/)?([^/]+)/([^/]+?)\.git(/.*)?$")
    SEG = r"(models|datasets)"
    ROUTES = [
        ("POST", r"^/api/v1/login$", "h_login"),
        ("GET", r"^/openapi/v1/users/me$", "h_me"),
        ("GET", r"^/api/v1/users/login/info$", "h_me_legacy"),
        ("POST", r"^/api/v1/models$", "h_create"),
        ("GET", r"^/openapi/v1/models/([^/]+)/([^/]+)$", "h_info_open"),
        ("GET", r"^/api/v1/models/([^/]+)/([^/]+)$", "h_info"),
        ("POST", r"^/api/v1/repos/models/([^/]+)/([^/]+)/info/lfs/objects/"
         r"batch$", "h_api_batch"),
        ("PUT", r"^/lfs-upload/([0-9a-f]{64})$", "h_blob_put"),
        ("GET", r"^/lfs-download/([^/]+)/([^/]+)/([0-9a-f]{64})$",
         "h_lfs_download"),
        ("POST", r"^/api/v1/repos/models/([^/]+)/([^/]+)/commit/(.+)$",
         "h_commit"),
        ("GET", r"^/api/v1/models/([^/]+)/([^/]+)/repo/files$", "h_files"),
        ("GET", r"^/api/v1/models/([^/]+)/([^/]+)/repo$", "h_download"),
        ("GET", r"^/api/v1/models/([^/]+)/([^/]+)/revisions$",
         "h_revisions"),
        ("GET", r"^/api/v1/models/([^/]+)/([^/]+)/commits$", "h_commits"),
        ("POST", r"^/api/v1/models/([^/]+)/([^/]+)/repo/tag$", "h_tag"),
        ("DELETE", r"^/api/v1/models/([^/]+)/([^/]+)/file$", "h_delete"),
        ("GET", r"^/api/v1/repos/internalAccelerationInfo$",
         "h_accel_info"),
    ]
    ROUTES = [(m, re.compile(r), f) for m, r, f in ROUTES]

    def route(self):
        api = self.upath.startswith(("/api/", "/openapi/"))
        m = self.GIT_RE.match(self.upath)
        if m and not api:
            return self.git_route(m.group(1), m.group(2), m.group(3) or "/")
        if api and ("basic" in self.auth_kinds or
                    "other" in self.auth_kinds):
            # Appendix A: the API takes Bearer or the m_session_id cookie
            # only; anything else is 401 (Basic is for the git routes)
            self.auth_ok = False
            msg = "authentication failed: the API accepts only a Bearer " \
                "token or the m_session_id cookie, not %s" % (
                    "HTTP Basic" if "basic" in self.auth_kinds else
                    "this Authorization scheme")
            if self.upath.startswith("/openapi/"):
                return self.send_json(401, {
                    "success": False, "code": 401, "message": msg,
                    "request_id": self.rid, "data": None}, headers=[
                        ("WWW-Authenticate", 'Bearer realm="fakehub"')])
            raise HubError(401, msg)
        allowed = False
        for meth, rx, fn in self.ROUTES:
            mm = rx.match(self.upath)
            if not mm:
                continue
            if meth != self.command and not (meth == "GET" and
                                             self.command == "HEAD"):
                allowed = True
                continue
            return getattr(self, fn)(*mm.groups())
        if allowed:
            raise HubError(405, "method not allowed")
        raise HubError(404, "no such endpoint: %s %s" % (self.command,
                                                         self.upath))

    # -- repo access helpers
    def check_name(self, owner, name):
        if not NAME_RE.match(owner) or not NAME_RE.match(name) or \
                name.endswith(".git"):
            raise HubError(400, "invalid repo id %r" % (owner + "/" + name))

    def repo_for_read(self, owner, name):
        """Presented but wrong credentials: 401.  Absent repo, or a
        private one read without credentials: 404 (protocol 3.1)."""
        if self.auth_kinds and not self.auth_ok:
            self.require_auth()
        meta = self.hub.repo_meta(owner, name)
        if meta is None or (meta.get("Visibility", 5) == 1 and
                            not self.auth_ok):
            raise HubError(404, "model %s/%s not found" % (owner, name))
        return meta

    def repo_for_write(self, owner, name):
        self.require_auth()
        meta = self.hub.repo_meta(owner, name)
        if meta is None:
            raise HubError(404, "model %s/%s not found" % (owner, name))
        return meta

    # -- handlers: account
    def h_login(self):
        body = self.json_body()
        tok = body.get("AccessToken") if isinstance(body, dict) else None
        if tok != self.hub.token:
            raise HubError(401, "login failed: invalid access token")
        hub = self.hub
        self.send_json(200, legacy({"AccessToken": hub.git_token,
                                    "Username": hub.user,
                                    "Email": hub.email}, rid=self.rid),
                       headers=[("Set-Cookie", "m_session_id=%s; Path=/; "
                                 "HttpOnly" % hub.token)])

    def h_me(self):
        if not self.auth_ok:
            self.send_json(401, {"success": False, "code": 401,
                                 "message": "authentication failed",
                                 "request_id": self.rid, "data": None})
            return
        hub = self.hub
        self.send_json(200, {"success": True, "data": {
            "id": 42, "username": hub.user, "email": hub.email,
            "avatar_url": "", "description": ""}})

    def h_me_legacy(self):
        self.require_auth()
        self.ok({"Username": self.hub.user, "Email": self.hub.email})

    # -- handlers: repos
    def h_create(self):
        self.require_auth()
        body = self.json_body()
        if not isinstance(body, dict):
            raise HubError(400, "body must be a JSON object")
        owner, name = body.get("Path"), body.get("Name")
        if not isinstance(owner, str) or not isinstance(name, str):
            raise HubError(400, "Path and Name are required")
        self.check_name(owner, name)
        vis = body.get("Visibility", 5)
        if vis not in (1, 3, 5):
            raise HubError(400, "invalid Visibility %r" % (vis,))
        meta = {"Path": owner, "Name": name, "Visibility": vis,
                "License": body.get("License") or "Apache-2.0",
                "ChineseName": body.get("ChineseName") or "",
                "Description": body.get("Description") or "",
                "ProtectedMode": body.get("ProtectedMode")}
        self.extra["repo"] = owner + "/" + name
        if not self.hub.create_repo(owner, name, meta):
            raise HubError(400, "model %s/%s already exists" % (owner, name),
                           code=CODE_MODEL_EXISTS)
        self.ok(self.info_data(owner, name))

    def info_data(self, owner, name):
        m = self.hub.repo_meta(owner, name)
        return {"Id": m["Id"], "Path": owner, "Owner": owner, "Name": name,
                "Visibility": m.get("Visibility", 5),
                "License": m.get("License"),
                "ChineseName": m.get("ChineseName", ""),
                "Description": m.get("Description", ""),
                "ProtectedMode": m.get("ProtectedMode"),
                "Downloads": 0, "Likes": 0, "CreatedAt": m["CreatedAt"],
                "LastModified": m["LastModified"], "Tags": []}

    def h_info(self, owner, name):
        self.repo_for_read(owner, name)
        self.ok(self.info_data(owner, name))

    def h_info_open(self, owner, name):
        try:
            self.repo_for_read(owner, name)
        except HubError as e:
            self.send_json(e.status, {"success": False, "code": e.status,
                                      "message": e.message,
                                      "request_id": self.rid})
            return
        d = self.info_data(owner, name)
        self.send_json(200, {"success": True, "data": {
            "id": owner + "/" + name, "private": d["Visibility"] == 1,
            "gated": d.get("ProtectedMode") == 1, "display_name":
            d["ChineseName"] or name, "downloads": 0, "likes": 0,
            "license": d["License"], "created_at": d["CreatedAt"],
            "last_modified": d["LastModified"]}})

    # -- handlers: blobs
    def batch_objects(self, body):
        if not isinstance(body, dict) or not isinstance(body.get("objects"),
                                                        list):
            raise HubError(400, "body needs an objects list")
        objs = []
        for o in body["objects"]:
            if not isinstance(o, dict):
                raise HubError(400, "objects must be objects")
            oid, size = o.get("oid"), o.get("size")
            if not isinstance(oid, str) or not OID_RE.match(oid):
                raise HubError(400, "invalid oid %r" % (oid,))
            if not isinstance(size, int) or isinstance(size, bool) or \
                    size < 0:
                raise HubError(400, "invalid size %r for %s" % (size, oid))
            objs.append((oid, size))
        return objs

    def h_api_batch(self, owner, name):
        self.repo_for_write(owner, name)
        body = self.json_body()
        op = body.get("operation", "upload") if isinstance(body, dict) \
            else None
        if op != "upload":
            raise HubError(400, "operation must be upload")
        out = []
        for oid, size in self.batch_objects(body):
            if self.hub.has_object(oid, size):
                continue  # existing objects are not listed
            out.append({"oid": oid, "size": size, "actions": {"upload": {
                "href": self.hub.upload_href(oid, size)}}})
        self.extra["objects"] = len(body["objects"])
        self.extra["missing"] = len(out)
        self.ok({"objects": out})

    def h_blob_put(self, oid):
        # Bearer or cookie only (no Basic); the Bearer may also be the
        # upload ticket the git-lfs batch API handed out for this oid
        kinds = self.auth_kinds
        good = bool(kinds) and not ("basic" in kinds or "other" in kinds)
        if self.bearer is not None and self.bearer not in (
                self.hub.token, self.hub.upload_ticket(oid)):
            good = False
        if self.cookie is not None and self.cookie != self.hub.token:
            good = False
        self.auth_ok = good
        self.require_auth()
        b = self.body
        if b.length is None:
            raise HubError(411, "Content-Length required")
        want = self.q("size")
        if want is not None and (not want.isdigit() or int(want) != b.length):
            raise HubError(400, "size mismatch: Content-Length %d, expected "
                           "%s" % (b.length, want))
        self.extra["oid"] = oid
        hub = self.hub
        fd, tmp = tempfile.mkstemp(prefix="put-", dir=hub.tmp)
        try:
            b.hasher = hashlib.sha256()
            with os.fdopen(fd, "wb") as f:
                while True:
                    chunk = b.read(4 * CHUNK)
                    if not chunk:
                        break
                    f.write(chunk)
            got = b.hasher.hexdigest()
            if b.count != b.length:
                raise HubError(400, "size mismatch")
            if got != oid:
                raise HubError(400, "sha256 mismatch: body has %s, URL "
                               "names %s" % (got, oid))
            dst = hub.obj_path(oid)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            os.replace(tmp, dst)
            tmp = None
        finally:
            if tmp and os.path.exists(tmp):
                os.unlink(tmp)
        self.ok(None)

    def h_lfs_download(self, owner, name, oid):
        self.repo_for_read(owner, name)
        p = self.hub.obj_path(oid)
        if not os.path.exists(p):
            raise HubError(404, "object %s not found" % oid)
        self.send_file(p)

    # -- handlers: commits
    def h_commit(self, owner, name, revision):
        self.extra["repo"] = owner + "/" + name
        self.repo_for_write(owner, name)
        body = self.json_body()
        if git(self.hub.repo_dir(owner, name), "check-ref-format",
               "refs/heads/" + revision, check=False).returncode != 0:
            raise HubError(400, "invalid revision %r" % revision)
        if not isinstance(body, dict):
            raise HubError(400, "body must be a JSON object")
        msg = body.get("commit_message")
        if not isinstance(msg, str) or not msg.strip():
            raise HubError(400, "commit_message is required")
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions:
            raise HubError(400, "actions must be a non-empty list")
        changes = {}
        summary = []
        for i, a in enumerate(actions):
            path, ch = self.validate_action(i, a)
            if path in changes:
                raise HubError(400, "action %d: duplicate path %r" % (i,
                                                                      path))
            changes[path] = ch
            summary.append({"action": a["action"], "path": path,
                            "type": a["type"], "size": a["size"]})
        self.extra["actions"] = summary
        self.extra["commit_message"] = msg
        # lfs objects: present with that size (verify + import in
        # object-store mode)
        lfs = [(path, ch[1], ch[2]) for path, ch in changes.items()
               if ch is not None and ch[0] == "lfs"]
        for (path, _, _), (good, why) in zip(
                lfs, self.hub.ensure_objects([x[1:] for x in lfs])):
            if not good:
                raise HubError(400, "%s: %s" % (path, why))
        commit, changed = self.hub.commit_changes(owner, name, revision,
                                                  changes, msg)
        self.extra["commit"] = commit
        if not changed:
            self.extra["unchanged"] = True
        self.ok({"oid": commit, "Revision": revision})

    def validate_action(self, i, a):
        if not isinstance(a, dict):
            raise HubError(400, "action %d is not an object" % i)
        missing = [k for k in ACTION_KEYS if k not in a]
        if missing:
            raise HubError(400, "action %d: missing key(s) %s" % (
                i, ", ".join(missing)))
        kind, typ, size = a["action"], a["type"], a["size"]
        if kind not in ("create", "update", "delete"):
            raise HubError(400, "action %d: unknown action %r" % (i, kind))
        if typ not in ("normal", "lfs"):
            raise HubError(400, "action %d: unknown type %r" % (i, typ))
        try:
            path = strict_path(a["path"])
        except ValueError as e:
            raise HubError(400, "action %d: invalid path %r: %s" % (
                i, a["path"], e))
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise HubError(400, "action %d: invalid size %r" % (i, size))
        for k in ("sha256", "content", "encoding"):
            if not isinstance(a[k], str):
                raise HubError(400, "action %d: %s must be a string" % (i, k))
        if kind == "delete":
            return path, None
        if typ == "normal":
            if a["encoding"] != "base64":
                raise HubError(400, "action %d (%s): encoding must be base64"
                               % (i, path))
            try:
                data = base64.b64decode(a["content"], validate=True)
            except (binascii.Error, ValueError) as e:
                raise HubError(400, "action %d (%s): invalid base64: %s" % (
                    i, path, e))
            if len(data) != size:
                raise HubError(400, "action %d (%s): content is %d bytes, "
                               "size says %d" % (i, path, len(data), size))
            if a["sha256"] and a["sha256"].lower() != \
                    hashlib.sha256(data).hexdigest():
                raise HubError(400, "action %d (%s): sha256 does not match "
                               "content" % (i, path))
            return path, ("normal", data)
        oid = a["sha256"]
        if not OID_RE.match(oid):
            raise HubError(400, "action %d (%s): lfs needs a 64-hex sha256"
                           % (i, path))
        return path, ("lfs", oid, size)

    def h_delete(self, owner, name):
        self.require_auth()
        if self.hub.deny_token_delete:
            # protocol 5.2: the hub may refuse token-based deletions
            raise HubError(401, "this access token no longer supports "
                           "deleting files; delete them on the website "
                           "instead")
        self.repo_for_write(owner, name)
        fp = self.q("FilePath")
        rev = self.q("Revision") or "master"
        try:
            path = strict_path(fp)
        except ValueError as e:
            raise HubError(400, "invalid FilePath %r: %s" % (fp, e))
        commit, _ = self.hub.commit_changes(owner, name, rev, {path: None},
                                            "Delete %s" % path)
        self.ok({"oid": commit})

    def h_accel_info(self):
        if self.auth_kinds and not self.auth_ok:
            self.require_auth()
        self.ok({"InternalRegionQueryAddress": ""})

    # -- handlers: reading
    def read_commit(self, owner, name, rev):
        gitdir = self.hub.repo_dir(owner, name)
        commit = self.hub.resolve(gitdir, rev)
        if commit is None:
            has_any = git(gitdir, "for-each-ref", "--count=1",
                          "refs/").stdout.strip()
            if has_any:
                raise HubError(404, "revision %r not found" % rev)
        return gitdir, commit

    def h_files(self, owner, name):
        self.repo_for_read(owner, name)
        rev = self.q("Revision") or "master"
        recursive = (self.q("Recursive") or "False").lower() == "true"
        root = (self.q("Root") or "").strip("/")
        gitdir, commit = self.read_commit(owner, name, rev)
        entries = self.hub.tree_entries(gitdir, commit)
        cdate = 0
        if commit:
            cdate = int(git(gitdir, "log", "-1", "--format=%ct",
                            commit).stdout.strip() or 0)
        sel = []
        for path, e in sorted(entries.items()):
            parent = path.rsplit("/", 1)[0] if "/" in path else ""
            if root and not (path.startswith(root + "/")):
                continue
            if not recursive and parent != root:
                continue
            sel.append((path, e))
        infos = self.hub.blob_infos(gitdir, [(e[2], e[3]) for _, e in sel
                                             if e[1] == "blob"])
        files = []
        for path, (mode, typ, sha, size) in sel:
            ent = {"Name": path.rsplit("/", 1)[-1], "Path": path,
                   "Type": "tree" if typ == "tree" else "blob",
                   "Mode": mode, "BlobId": sha, "Revision": commit,
                   "CommittedDate": cdate}
            if typ == "tree":
                ent["Size"] = 0
            else:
                is_lfs, sz, sha256 = infos[sha]
                ent.update({"Size": sz, "Sha256": sha256, "IsLFS": is_lfs})
            files.append(ent)
        self.ok({"Files": files})

    def h_download(self, owner, name):
        self.repo_for_read(owner, name)
        rev = self.q("Revision") or "master"
        fp = self.q("FilePath")
        try:
            path = normalise_path(fp)
        except ValueError as e:
            raise HubError(400, "invalid FilePath %r: %s" % (fp, e))
        gitdir, commit = self.read_commit(owner, name, rev)
        e = self.hub.tree_entries(gitdir, commit).get(path) if commit \
            else None
        if e is None or e[1] != "blob":
            raise HubError(404, "file %r not found at %s" % (path, rev))
        info = self.hub.blob_infos(gitdir, [(e[2], e[3])])[e[2]]
        if info[0]:
            p = self.hub.obj_path(info[2])
            if not os.path.exists(p):
                raise HubError(404, "LFS object of %r missing" % path)
            return self.send_file(p)
        data = self.hub.read_blob(gitdir, e[2])
        self.send_content(len(data), lambda: io.BytesIO(data))

    def h_revisions(self, owner, name):
        self.repo_for_read(owner, name)
        gitdir = self.hub.repo_dir(owner, name)
        p = git(gitdir, "for-each-ref", "--format=%(refname)%00"
                "%(*committerdate:unix)%00%(committerdate:unix)%00"
                "%(creatordate:unix)", "refs/heads", "refs/tags")
        end = self.q("EndTime")
        branches, tags = [], []
        for line in p.stdout.decode().splitlines():
            ref, tdate, cdate, crdate = line.split("\0")
            when = int(crdate or cdate or tdate or 0)
            if end and end.isdigit() and when > int(end):
                continue
            if ref.startswith("refs/heads/"):
                branches.append({"Revision": ref[11:], "CreatedAt": when})
            else:
                tags.append({"Revision": ref[10:], "CreatedAt": when})
        tags.sort(key=lambda t: -t["CreatedAt"])
        self.ok({"RevisionMap": {"Branches": branches, "Tags": tags}})

    def h_commits(self, owner, name):
        self.repo_for_read(owner, name)
        ref = self.q("Ref") or "master"
        page = max(1, int(self.q("PageNumber") or 1))
        size = max(1, int(self.q("PageSize") or 50))
        gitdir, commit = self.read_commit(owner, name, ref)
        out, total = [], 0
        if commit:
            total = int(git(gitdir, "rev-list", "--count",
                            commit).stdout.strip())
            p = git(gitdir, "log", "--skip=%d" % ((page - 1) * size),
                    "-n", str(size), "-z", "--format=%H%x00%h%x00%s%x00%B"
                    "%x00%an%x00%ae%x00%at%x00%cn%x00%ce%x00%ct", commit)
            f = p.stdout.decode("utf-8", "replace").split("\0")
            for i in range(0, len(f) - 9, 10):
                (h, sh, s, b, an, ae, at, cn, ce, ct) = f[i:i + 10]
                out.append({"Id": h.strip(), "ShortId": sh, "Title": s,
                            "Message": b, "AuthorName": an,
                            "AuthorEmail": ae, "AuthoredDate": int(at),
                            "CommitterName": cn, "CommitterEmail": ce,
                            "CommittedDate": int(ct), "CreatedAt": int(ct)})
        self.ok({"Commit": out}, TotalCount=total, PageNumber=page,
                PageSize=size)

    def h_tag(self, owner, name):
        self.repo_for_write(owner, name)
        body = self.json_body()
        if not isinstance(body, dict):
            raise HubError(400, "body must be a JSON object")
        tag, ref = body.get("TagName"), body.get("Ref") or "master"
        gitdir = self.hub.repo_dir(owner, name)
        if not isinstance(tag, str) or git(
                gitdir, "check-ref-format", "refs/tags/" + tag,
                check=False).returncode != 0 or tag in ("master", "main"):
            raise HubError(400, "invalid tag name %r" % (tag,))
        commit = self.hub.resolve(gitdir, ref)
        if not commit:
            raise HubError(404, "revision %r not found" % ref)
        p = git(gitdir, "update-ref", "refs/tags/" + tag, commit, ZERO_OID,
                check=False)
        if p.returncode != 0:
            raise HubError(400, "tag %r already exists" % tag)
        self.ok({"TagName": tag, "Revision": commit})

    # -- the git route
    def git_route(self, owner, name, rest):
        hub = self.hub
        self.extra["repo"] = owner + "/" + name
        if rest.startswith("/info/lfs/"):
            return self.lfs_route(owner, name, rest[len("/info/lfs"):])
        service = self.q("service")
        push = rest == "/git-receive-pack" or (
            rest == "/info/refs" and service == "git-receive-pack")
        meta = hub.repo_meta(owner, name)
        need_auth = push or (meta is not None and
                             meta.get("Visibility", 5) == 1) or \
            bool(self.auth_kinds)
        if need_auth and not self.auth_ok:
            raise HubError(401, "authentication required", headers=[
                ("WWW-Authenticate", 'Basic realm="fakehub"')])
        if meta is None:
            if push and rest == "/info/refs" and NAME_RE.match(owner) and \
                    NAME_RE.match(name):
                hub.create_repo(owner, name, {
                    "Path": owner, "Name": name, "Visibility": 5,
                    "License": "Apache-2.0", "ChineseName": "",
                    "Description": "", "ProtectedMode": None,
                    "CreatedBy": "git push"})
                self.extra["auto_created"] = True
            else:
                raise HubError(404, "repository %s/%s not found" % (owner,
                                                                   name))
        self.cgi(owner, name, rest)

    def cgi(self, owner, name, rest):
        hub = self.hub
        env = git_env({
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "SERVER_SOFTWARE": "fakehub",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": "/%s/%s.git%s" % (owner, name, rest),
            "QUERY_STRING": self.rawquery,
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_USER": self.basic_user or hub.user if self.auth_ok
            else "",
            "GIT_PROJECT_ROOT": hub.repos,
            "GIT_HTTP_EXPORT_ALL": "1",
            "FAKEHUB_LFS_DIR": hub.lfs,
            "FAKEHUB_BLOB_DIR": hub.blob_dir or "",
        })
        for h, e in (("Content-Type", "CONTENT_TYPE"),
                     ("Content-Encoding", "HTTP_CONTENT_ENCODING"),
                     ("Git-Protocol", "HTTP_GIT_PROTOCOL"),
                     ("Accept", "HTTP_ACCEPT")):
            v = self.headers.get(h)
            if v:
                env[e] = v
        if self.body.length is not None:
            env["CONTENT_LENGTH"] = str(self.body.length)
        errf = tempfile.TemporaryFile(dir=hub.tmp)
        proc = subprocess.Popen(["git", "http-backend"], env=env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=errf)
        feed_err = []

        def feed():
            try:
                while True:
                    b = self.body.read(CHUNK)
                    if not b:
                        break
                    proc.stdin.write(b)
            except Exception as e:  # noqa: BLE001 - reported below
                feed_err.append(e)
            finally:
                try:
                    proc.stdin.close()
                except OSError:
                    pass
        t = threading.Thread(target=feed, daemon=True)
        t.start()
        out = tempfile.SpooledTemporaryFile(max_size=8 * CHUNK, dir=hub.tmp)
        shutil.copyfileobj(proc.stdout, out, CHUNK)
        proc.wait()
        t.join()
        if feed_err:
            raise feed_err[0]
        out.seek(0)
        status, headers = 200, []
        while True:
            line = out.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            k, _, v = line.decode("latin-1").partition(":")
            k, v = k.strip(), v.strip()
            if k.lower() == "status":
                status = int(v.split()[0])
            elif k.lower() not in ("content-length", "connection",
                                   "transfer-encoding"):
                headers.append((k, v))
        start = out.tell()
        out.seek(0, 2)
        size = out.tell() - start
        out.seek(start)
        errf.seek(0)
        err = errf.read().decode("utf-8", "replace").strip()
        errf.close()
        if err:
            self.extra["backend_stderr"] = err[-2000:]
        self._prepare_response()
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(size))
        self.send_header("X-Request-ID", self.rid)
        if self.close_connection:
            self.send_header("Connection", "close")
        if rest == "/git-receive-pack":
            self.hub.touch_repo(owner, name)
        self.status = status
        self.resp_bytes = size
        self.finish_record(self.fault_spec)
        self.end_headers()
        if self.command != "HEAD":
            shutil.copyfileobj(out, self.wfile, CHUNK)
        out.close()

    # -- the git-lfs API
    def lfs_error(self, status, message, headers=()):
        self.send_json(status, {"message": message,
                                "request_id": self.rid},
                       ctype=LFS_MEDIA, headers=headers)

    def lfs_route(self, owner, name, rest):
        hub = self.hub
        meta = hub.repo_meta(owner, name)
        challenge = [("WWW-Authenticate", 'Basic realm="fakehub"'),
                     ("LFS-Authenticate", 'Basic realm="fakehub"')]
        if rest == "/objects/batch" and self.command == "POST":
            body = self.json_body()
            op = body.get("operation") if isinstance(body, dict) else None
            if op not in ("upload", "download"):
                return self.lfs_error(422, "operation must be upload or "
                                      "download")
            private = meta is not None and meta.get("Visibility", 5) == 1
            if (op == "upload" or private or self.auth_kinds) and \
                    not self.auth_ok:
                return self.lfs_error(401, "credentials needed", challenge)
            if meta is None:
                return self.lfs_error(404, "repository not found")
            tr = body.get("transfers") or ["basic"]
            if "basic" not in tr:
                return self.lfs_error(422, "only the basic transfer is "
                                      "supported")
            try:
                objs = self.batch_objects(body)
            except HubError as e:
                return self.lfs_error(422, e.message)
            auth = self.headers.get("Authorization")
            hdr = {"Authorization": auth} if auth and self.auth_ok else {}
            out = []
            base = "%s/%s/%s.git/info/lfs" % (hub.base_url, owner, name)
            for oid, size in objs:
                o = {"oid": oid, "size": size, "authenticated": True}
                if op == "upload":
                    if not hub.has_object(oid, size):
                        up = {"href": hub.upload_href(oid, size),
                              "expires_in": 3600}
                        if not hub.blob_url:
                            up["header"] = {"Authorization": "Bearer " +
                                            hub.upload_ticket(oid)}
                        o["actions"] = {"upload": up, "verify": {
                            "href": base + "/verify", "header": dict(hdr),
                            "expires_in": 3600}}
                else:
                    good, why = hub.ensure_object(oid, size)
                    if good:
                        o["actions"] = {"download": {
                            "href": "%s/lfs-download/%s/%s/%s" % (
                                hub.base_url, owner, name, oid),
                            "header": dict(hdr), "expires_in": 3600}}
                    else:
                        o["error"] = {"code": 404, "message": why}
                out.append(o)
            self.extra["objects"] = len(objs)
            return self.send_json(200, {"transfer": "basic", "objects": out,
                                        "hash_algo": "sha256"},
                                  ctype=LFS_MEDIA)
        if rest == "/verify" and self.command == "POST":
            if not self.auth_ok:
                return self.lfs_error(401, "credentials needed", challenge)
            body = self.json_body()
            try:
                (oid, size), = self.batch_objects({"objects": [body]})
            except (HubError, ValueError):
                return self.lfs_error(422, "verify needs oid and size")
            good, why = hub.ensure_object(oid, size)
            if not good:
                return self.lfs_error(404, why)
            return self.send_json(200, {"message": "ok"}, ctype=LFS_MEDIA)
        if rest.startswith("/locks"):
            if not self.auth_ok:
                return self.lfs_error(401, "credentials needed", challenge)
            if rest == "/locks/verify" and self.command == "POST":
                self.json_body()
                return self.send_json(200, {"ours": [], "theirs": []},
                                      ctype=LFS_MEDIA)
            if rest == "/locks" and self.command == "GET":
                return self.send_json(200, {"locks": []}, ctype=LFS_MEDIA)
            return self.lfs_error(404, "locking is not supported")
        return self.lfs_error(404, "not found")


# ------------------------------------------------------- pre-receive hook

# The hook proper is Python (below), but starting it costs ~0.15 s, paid on
# every push.  This shell front only starts it when a pushed blob could be
# an LFS pointer (small and starting with the pointer's first line).
PRE_RECEIVE_SH = """#!/bin/sh
input=$(cat)
news=
while read -r old new ref; do
    case $new in *[!0]*) news="$news $new" ;; esac
done <<EOF_INPUT
$input
EOF_INPUT
[ -n "$news" ] || exit 0
# shellcheck disable=SC2086
if git rev-list --objects $news --not --all |
    git cat-file --batch-check='%%(objecttype) %%(objectsize) %%(objectname) %%(rest)' |
    awk '$1 == "blob" && $2 <= %(max)d {print $3}' | git cat-file --batch |
    grep -q '^version https://git-lfs.github.com/spec/'; then
    printf '%%s\\n' "$input" | '%(python)s' '%(script)s' --pre-receive-hook
    exit $?
fi
exit 0
"""

def pre_receive_hook():
    """Refuse a push whose new lfs pointers name objects the store lacks.
    Runs inside git receive-pack (environment from the CGI call)."""
    lfs = os.environ.get("FAKEHUB_LFS_DIR")
    blob_dir = os.environ.get("FAKEHUB_BLOB_DIR") or None
    if not lfs:
        return 0
    news = []
    for line in sys.stdin:
        parts = line.split()
        if len(parts) == 3 and parts[1] != ZERO_OID:
            news.append(parts[1])
    if not news:
        return 0
    env = dict(os.environ)
    p = subprocess.run(["git", "rev-list", "--objects"] + news +
                       ["--not", "--all"], stdout=subprocess.PIPE, env=env,
                       check=True)
    objs = {}
    for line in p.stdout.decode("utf-8", "surrogateescape").splitlines():
        sha, _, path = line.partition(" ")
        objs[sha] = path
    if not objs:
        return 0
    p = subprocess.run(["git", "cat-file", "--batch-check=%(objectname) "
                        "%(objecttype) %(objectsize)"],
                       input="\n".join(objs).encode() + b"\n",
                       stdout=subprocess.PIPE, env=env, check=True)
    small = [ln.split()[0] for ln in p.stdout.decode().splitlines()
             if ln.split()[1] == "blob" and int(ln.split()[2]) <= POINTER_MAX]
    bad = []
    if small:
        p = subprocess.run(["git", "cat-file", "--batch"],
                           input="\n".join(small).encode() + b"\n",
                           stdout=subprocess.PIPE, env=env, check=True)
        data = p.stdout
        pos = 0
        ptrs = []  # (sha of the pointer blob, (oid, size))
        for sha in small:
            nl = data.index(b"\n", pos)
            size = int(data[pos:nl].split()[2])
            content = data[nl + 1:nl + 1 + size]
            pos = nl + 1 + size + 1
            ptr = parse_pointer(content)
            if ptr:
                ptrs.append((sha, ptr))
        # just the object store part of a Hub; the objects are checked in
        # parallel as for a commit
        hub = Hub.__new__(Hub)
        hub.lfs, hub.blob_dir = lfs, blob_dir
        hub.locks, hub.locks_lock = {}, threading.Lock()
        for (sha, _), (good, why) in zip(
                ptrs, hub.ensure_objects([ptr for _, ptr in ptrs])):
            if not good:
                bad.append("%s: %s" % (objs.get(sha) or sha, why))
    if bad:
        for b in bad:
            sys.stderr.write("fakehub: refusing push, %s\n" % b)
        return 1
    return 0


# --------------------------------------------------------------------- main

class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def main(argv=None):
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--pre-receive-hook"]:
        return pre_receive_hook()
    ap = argparse.ArgumentParser(description="local fake ModelScope hub")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--data", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--user", default="alice",
                    help="user name of the token (default alice)")
    ap.add_argument("--log")
    ap.add_argument("--fault", action="append", default=[])
    ap.add_argument("--blob-store-url")
    ap.add_argument("--blob-store-dir")
    ap.add_argument("--deny-token-delete", action="store_true",
                    help="DELETE .../file answers 401 (the token no "
                    "longer supports deletion); delete actions in commits "
                    "stay allowed")
    args = ap.parse_args(argv)
    try:
        hub = Hub(args)
    except ValueError as e:
        ap.error(str(e))
    Handler.hub = hub
    srv = Server(("127.0.0.1", args.port), Handler)
    hub.base_url = "http://127.0.0.1:%d" % srv.server_address[1]

    def stop(signum, frame):
        threading.Thread(target=srv.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stdout.write(hub.base_url + "\n")
    sys.stdout.flush()
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        srv.server_close()
        if hub.log_file:
            hub.log_file.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
