#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Tests of tests/fakehub (fakehub.py, hub.sh, verify.sh, blobstore.sh).

Run: python3 tests/fakehub/test_fakehub.py [-v] [TestClass.test_name]
Every test talks to real processes over sockets on 127.0.0.1 only.
"""

import base64
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
FAKEHUB = os.path.join(HERE, "fakehub.py")
VERIFY = os.path.join(HERE, "verify.sh")
BLOBSTORE = os.path.join(HERE, "blobstore.sh")
HUBSH = os.path.join(HERE, "hub.sh")
TOKEN = "ms-test-token-0123456789"

sys.path.insert(0, HERE)
import fakehub  # noqa: E402


def sha(b):
    return hashlib.sha256(b).hexdigest()


def b64(b):
    return base64.b64encode(b).decode()


def normal(path, data, action="create"):
    return {"action": action, "path": path, "type": "normal",
            "size": len(data), "sha256": "", "content": b64(data),
            "encoding": "base64"}


def lfs(path, data, action="create"):
    return {"action": action, "path": path, "type": "lfs", "size": len(data),
            "sha256": sha(data), "content": "", "encoding": ""}


def delete(path):
    return {"action": "delete", "path": path, "type": "normal", "size": 0,
            "sha256": "", "content": "", "encoding": ""}


class HubProc:
    """A fakehub.py process on a free port with its own data dir."""

    def __init__(self, tmp, *extra):
        self.data = os.path.join(tmp, "data")
        self.logpath = os.path.join(tmp, "requests.jsonl")
        self.errpath = os.path.join(tmp, "hub.err")
        self.err = open(self.errpath, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, FAKEHUB, "--port", "0", "--data", self.data,
             "--token", TOKEN, "--log", self.logpath] + list(extra),
            stdout=subprocess.PIPE, stderr=self.err)
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("http://127.0.0.1:"):
            self.proc.kill()
            raise RuntimeError("fakehub did not start: %r %s" % (
                line, open(self.errpath).read()))
        self.url = line
        self.port = int(line.rsplit(":", 1)[1])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()
        self.proc.stdout.close()
        return self.proc.returncode

    def log(self):
        with open(self.logpath, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.endswith("\n")]


class Resp:
    def __init__(self, r, body):
        self.status = r.status
        self.headers = r
        self.body = body

    def json(self):
        return json.loads(self.body.decode())

    def header(self, name):
        return self.headers.getheader(name)


class HubCase(unittest.TestCase):
    """Base: one hub per test class."""

    hub_args = ()

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="fakehub-test-")
        cls.hub = HubProc(cls.tmp, *cls.hub_args)
        cls.env = git_home(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        cls.hub.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def request(self, method, path, body=None, headers=None, auth="bearer",
                token=TOKEN, conn=None, chunked=False):
        h = {}
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        if auth == "bearer":
            h["Authorization"] = "Bearer " + token
        elif auth == "cookie":
            h["Cookie"] = "m_session_id=" + token
        elif auth == "both":
            h["Authorization"] = "Bearer " + token
            h["Cookie"] = "m_session_id=" + token
        elif auth == "basic":
            h["Authorization"] = "Basic " + b64(("oauth2:" + token).encode())
        h.update(headers or {})
        own = conn is None
        if own:
            conn = http.client.HTTPConnection("127.0.0.1", self.hub.port,
                                              timeout=60)
        try:
            conn.request(method, path, body=body, headers=h,
                         encode_chunked=chunked)
            r = conn.getresponse()
            data = r.read()
            return Resp(r, data)
        finally:
            if own:
                conn.close()

    # helpers
    _n = 0

    def new_repo(self, visibility=5):
        HubCase._n += 1
        name = "r%d-%s" % (HubCase._n, self.id().rsplit(".", 1)[-1][:40])
        name = name.replace("_", "-")
        r = self.request("POST", "/api/v1/models", {
            "Path": "alice", "Name": name, "Visibility": visibility,
            "License": "Apache-2.0"})
        self.assertEqual(r.status, 200, r.body)
        return "alice", name

    def put_blob(self, data, auth="bearer"):
        oid = sha(data)
        return self.request("PUT", "/lfs-upload/%s?size=%d" % (oid, len(data)),
                            body=data, auth=auth)

    def commit(self, owner, name, actions, rev="master", msg="test commit",
               auth="both", token=TOKEN):
        return self.request("POST", "/api/v1/repos/models/%s/%s/commit/%s" % (
            owner, name, rev), {"commit_message": msg, "actions": actions},
            auth=auth, token=token)

    def files(self, owner, name, rev="master", root=None, recursive=True):
        q = {"Revision": rev, "Recursive": "True" if recursive else "False"}
        if root is not None:
            q["Root"] = root
        r = self.request("GET", "/api/v1/models/%s/%s/repo/files?%s" % (
            owner, name, urllib.parse.urlencode(q)), auth=None)
        self.assertEqual(r.status, 200, r.body)
        return {f["Path"]: f for f in r.json()["Data"]["Files"]}

    def gitdir(self, owner, name):
        return os.path.join(self.hub.data, "repos", owner, name + ".git")

    def git(self, *args, cwd=None, check=True, env=None):
        e = dict(self.env)
        if env:
            e.update(env)
        p = subprocess.run(["git"] + list(args), cwd=cwd, env=e,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if check and p.returncode != 0:
            self.fail("git %s failed: %s" % (" ".join(args),
                                              p.stderr.decode()))
        return p

    def assertLegacyError(self, r, status, code=None):
        self.assertEqual(r.status, status, r.body)
        j = r.json()
        self.assertEqual(j["Code"], code if code is not None else status)
        self.assertFalse(j["Success"])
        self.assertIsNone(j["Data"])
        self.assertTrue(j["Message"])
        self.assertTrue(j["RequestId"])


def git_home(tmp):
    home = os.path.join(tmp, "home")
    os.makedirs(home, exist_ok=True)
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("GIT_"):
            del env[k]
    env.update({"HOME": home, "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C.UTF-8",
                "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@localhost",
                "GIT_COMMITTER_NAME": "t",
                "GIT_COMMITTER_EMAIL": "t@localhost"})
    subprocess.run(["git", "lfs", "install", "--skip-repo"], env=env,
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["git", "config", "--global", "init.defaultBranch",
                    "master"], env=env, check=True)
    return env


# ---------------------------------------------------------------- the API

class TestAccount(HubCase):
    def test_url_line_and_sigterm_exit_0(self):
        tmp = tempfile.mkdtemp(prefix="fakehub-test-")
        try:
            h = HubProc(tmp)
            self.assertRegex(h.url, r"^http://127\.0\.0\.1:\d+$")
            self.assertEqual(h.stop(), 0)
            h = HubProc(tmp)
            h.proc.send_signal(signal.SIGINT)
            self.assertEqual(h.proc.wait(10), 0)
            h.stop()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_login_sets_cookie(self):
        r = self.request("POST", "/api/v1/login", {"AccessToken": TOKEN},
                         auth=None)
        self.assertEqual(r.status, 200)
        j = r.json()
        self.assertEqual(j["Code"], 200)
        self.assertEqual(j["Data"]["Username"], "alice")
        self.assertTrue(j["Data"]["AccessToken"])
        self.assertNotEqual(j["Data"]["AccessToken"], TOKEN)
        self.assertIn("m_session_id=%s" % TOKEN, r.header("Set-Cookie"))

    def test_login_wrong_token(self):
        r = self.request("POST", "/api/v1/login", {"AccessToken": "nope"},
                         auth=None)
        self.assertLegacyError(r, 401)

    def test_users_me(self):
        r = self.request("GET", "/openapi/v1/users/me")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["data"]["username"], "alice")
        r = self.request("GET", "/openapi/v1/users/me", auth=None)
        self.assertEqual(r.status, 401)
        self.assertFalse(r.json()["success"])

    def test_request_id_echo_and_generated(self):
        r = self.request("GET", "/api/v1/models/alice/none",
                         headers={"X-Request-ID": "abc123"})
        self.assertEqual(r.json()["RequestId"], "abc123")
        self.assertEqual(r.header("X-Request-ID"), "abc123")
        r = self.request("GET", "/api/v1/models/alice/none")
        self.assertRegex(r.json()["RequestId"], r"^[0-9a-f]{32}$")

    def test_keep_alive(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.hub.port)
        try:
            for _ in range(3):
                r = self.request("GET", "/openapi/v1/users/me", conn=conn)
                self.assertEqual(r.status, 200)
                r = self.request("GET", "/nowhere", conn=conn)
                self.assertEqual(r.status, 404)
            sock = conn.sock
            self.assertIsNotNone(sock)
        finally:
            conn.close()

    def test_unknown_endpoint_404_legacy(self):
        self.assertLegacyError(self.request("GET", "/api/v1/nothing"), 404)


class TestRepos(HubCase):
    def test_create_and_info(self):
        r = self.request("POST", "/api/v1/models", {
            "Path": "alice", "Name": "info-demo", "Visibility": 5,
            "License": "MIT", "ChineseName": "演示"})
        self.assertEqual(r.status, 200, r.body)
        d = r.json()["Data"]
        self.assertIsInstance(d, dict)
        self.assertEqual((d["Path"], d["Name"], d["License"]),
                         ("alice", "info-demo", "MIT"))
        self.assertTrue(os.path.isdir(self.gitdir("alice", "info-demo")))
        p = subprocess.run(["git", "--git-dir=" + self.gitdir(
            "alice", "info-demo"), "rev-parse", "--is-bare-repository"],
            stdout=subprocess.PIPE)
        self.assertEqual(p.stdout.strip(), b"true")
        r = self.request("GET", "/api/v1/models/alice/info-demo", auth=None)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["Data"]["Visibility"], 5)
        r = self.request("GET", "/openapi/v1/models/alice/info-demo")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["data"]["id"], "alice/info-demo")
        self.assertFalse(r.json()["data"]["private"])

    def test_info_absent_404(self):
        self.assertLegacyError(self.request("GET", "/api/v1/models/a/zz"),
                               404)
        r = self.request("GET", "/openapi/v1/models/a/zz")
        self.assertEqual(r.status, 404)

    def test_duplicate(self):
        body = {"Path": "alice", "Name": "dup", "Visibility": 5,
                "License": "Apache-2.0"}
        self.assertEqual(self.request("POST", "/api/v1/models", body).status,
                         200)
        r = self.request("POST", "/api/v1/models", body)
        self.assertLegacyError(r, 400, 10010101001)
        self.assertIn("already exists", r.json()["Message"])

    def test_create_needs_token(self):
        body = {"Path": "alice", "Name": "noauth"}
        self.assertLegacyError(self.request("POST", "/api/v1/models", body,
                                            auth=None), 401)
        self.assertLegacyError(self.request("POST", "/api/v1/models", body,
                                            token="wrong"), 401)
        self.assertLegacyError(self.request("POST", "/api/v1/models", body,
                                            auth="cookie", token="wrong"),
                               401)
        self.assertFalse(os.path.exists(self.gitdir("alice", "noauth")))
        # the cookie alone is enough
        r = self.request("POST", "/api/v1/models", body, auth="cookie")
        self.assertEqual(r.status, 200)

    def test_create_bad_name(self):
        r = self.request("POST", "/api/v1/models", {"Path": "alice",
                                                    "Name": "../x"})
        self.assertLegacyError(r, 400)

    def test_private_repo_reads_need_auth(self):
        """Protocol 3.1: a private repo seen without credentials looks like
        404; presented but wrong credentials are 401."""
        o, n = self.new_repo(visibility=1)
        big = os.urandom(3000)
        self.assertEqual(self.put_blob(big).status, 200)
        r = self.commit(o, n, [normal("a.txt", b"secret\n"),
                               lfs("w.bin", big)])
        self.assertEqual(r.status, 200, r.body)
        reads = ["/api/v1/models/%s/%s" % (o, n),
                 "/api/v1/models/%s/%s/repo/files?Revision=master"
                 "&Recursive=True" % (o, n),
                 "/api/v1/models/%s/%s/repo?Revision=master&FilePath=a.txt"
                 % (o, n),
                 "/api/v1/models/%s/%s/revisions" % (o, n),
                 "/api/v1/models/%s/%s/commits?Ref=master" % (o, n),
                 "/lfs-download/%s/%s/%s" % (o, n, sha(big))]
        for path in reads:
            self.assertLegacyError(self.request("GET", path, auth=None), 404)
            self.assertLegacyError(self.request("GET", path, token="bad"),
                                   401)
            self.assertEqual(self.request("GET", path).status, 200, path)
        r = self.request("GET", "/openapi/v1/models/%s/%s" % (o, n),
                         auth=None)
        self.assertEqual(r.status, 404)
        self.assertFalse(r.json()["success"])
        r = self.request("GET", "/openapi/v1/models/%s/%s" % (o, n),
                         auth="cookie", token="bad")
        self.assertEqual(r.status, 401)
        # the git route keeps its Basic challenge (git needs it to ask for
        # credentials)
        r = self.request("GET", "/%s/%s.git/info/refs?service="
                         "git-upload-pack" % (o, n), auth=None)
        self.assertEqual(r.status, 401)
        self.assertIn("Basic", r.header("WWW-Authenticate"))
        r = self.request("GET", "/api/v1/models/%s/%s/repo?Revision=master"
                         "&FilePath=a.txt" % (o, n), auth="cookie")
        self.assertEqual((r.status, r.body), (200, b"secret\n"))
        r = self.request("GET", "/openapi/v1/models/%s/%s" % (o, n))
        self.assertTrue(r.json()["data"]["private"])

    def test_wrong_token_on_public_read_is_401(self):
        o, n = self.new_repo()
        self.assertLegacyError(self.request(
            "GET", "/api/v1/models/%s/%s" % (o, n), token="bad"), 401)


class TestBlobs(HubCase):
    def test_batch_lists_only_missing(self):
        o, n = self.new_repo()
        have, miss = os.urandom(1000), os.urandom(2000)
        self.assertEqual(self.put_blob(have).status, 200)
        r = self.request("POST", "/api/v1/repos/models/%s/%s/info/lfs/"
                         "objects/batch" % (o, n), {
                             "operation": "upload", "objects": [
                                 {"oid": sha(have), "size": len(have)},
                                 {"oid": sha(miss), "size": len(miss)}]},
                         auth="both")
        self.assertEqual(r.status, 200, r.body)
        objs = r.json()["Data"]["objects"]
        self.assertEqual([o_["oid"] for o_ in objs], [sha(miss)])
        href = objs[0]["actions"]["upload"]["href"]
        self.assertTrue(href.startswith(self.hub.url + "/"))

    def test_batch_many_objects(self):
        o, n = self.new_repo()
        objs = [{"oid": sha(b"x%d" % i), "size": 2} for i in range(80)]
        r = self.request("POST", "/api/v1/repos/models/%s/%s/info/lfs/"
                         "objects/batch" % (o, n), {"operation": "upload",
                                                    "objects": objs})
        self.assertEqual(r.status, 200)
        self.assertEqual(len(r.json()["Data"]["objects"]), 80)

    def test_batch_needs_auth_and_valid_oid(self):
        o, n = self.new_repo()
        path = "/api/v1/repos/models/%s/%s/info/lfs/objects/batch" % (o, n)
        body = {"operation": "upload", "objects": [{"oid": "x", "size": 1}]}
        self.assertLegacyError(self.request("POST", path, body, auth=None),
                               401)
        self.assertLegacyError(self.request("POST", path, body), 400)
        self.assertLegacyError(self.request(
            "POST", "/api/v1/repos/models/alice/absent/info/lfs/objects/batch",
            {"operation": "upload", "objects": []}), 404)

    def test_put_href_roundtrip(self):
        o, n = self.new_repo()
        data = os.urandom(3 << 20)
        r = self.request("POST", "/api/v1/repos/models/%s/%s/info/lfs/"
                         "objects/batch" % (o, n), {
                             "operation": "upload",
                             "objects": [{"oid": sha(data),
                                          "size": len(data)}]})
        href = r.json()["Data"]["objects"][0]["actions"]["upload"]["href"]
        u = urllib.parse.urlsplit(href)
        r = self.request("PUT", u.path + "?" + u.query, body=data,
                         auth="both")
        self.assertEqual(r.status, 200, r.body)
        j = r.json()
        self.assertEqual((j["Code"], j["Success"], j["Message"]),
                         (200, True, "success"))
        p = os.path.join(self.hub.data, "lfs", "objects", sha(data)[:2],
                         sha(data)[2:4], sha(data))
        with open(p, "rb") as f:
            self.assertEqual(f.read(), data)

    def test_put_bad_sha_not_stored(self):
        data = b"hello world"
        oid = sha(b"something else")
        r = self.request("PUT", "/lfs-upload/%s?size=%d" % (oid, len(data)),
                         body=data)
        self.assertLegacyError(r, 400)
        self.assertFalse(os.path.exists(os.path.join(
            self.hub.data, "lfs", "objects", oid[:2], oid[2:4], oid)))
        self.assertEqual(os.listdir(os.path.join(self.hub.data, "tmp")), [])

    def test_put_bad_size(self):
        data = b"hello world"
        r = self.request("PUT", "/lfs-upload/%s?size=%d" % (sha(data), 99),
                         body=data)
        self.assertLegacyError(r, 400)

    def test_put_needs_content_length(self):
        data = b"chunky"

        def gen():
            yield data
        r = self.request("PUT", "/lfs-upload/%s" % sha(data), body=gen(),
                         chunked=True)
        self.assertLegacyError(r, 411)

    def test_put_needs_auth(self):
        self.assertLegacyError(self.put_blob(b"abc", auth=None), 401)

    def test_put_expect_100_continue(self):
        data = os.urandom(2 << 20)
        s = socket.create_connection(("127.0.0.1", self.hub.port))
        try:
            s.sendall(("PUT /lfs-upload/%s HTTP/1.1\r\nHost: x\r\n"
                       "Authorization: Bearer %s\r\nContent-Length: %d\r\n"
                       "Expect: 100-continue\r\n\r\n" % (
                           sha(data), TOKEN, len(data))).encode())
            f = s.makefile("rb")
            self.assertEqual(f.readline(), b"HTTP/1.1 100 Continue\r\n")
            self.assertEqual(f.readline(), b"\r\n")
            s.sendall(data)
            self.assertEqual(f.readline().split()[1], b"200")
            # refused before the body: no 100, a final 401 instead
            s2 = socket.create_connection(("127.0.0.1", self.hub.port))
            s2.sendall(("PUT /lfs-upload/%s HTTP/1.1\r\nHost: x\r\n"
                        "Content-Length: %d\r\nExpect: 100-continue\r\n\r\n"
                        % (sha(data), len(data))).encode())
            f2 = s2.makefile("rb")
            self.assertEqual(f2.readline().split()[1], b"401")
            s2.close()
        finally:
            s.close()


class TestCommit(HubCase):
    def test_commit_creates_git_commit(self):
        o, n = self.new_repo()
        big = os.urandom(1 << 21)
        self.assertEqual(self.put_blob(big).status, 200)
        acts = [normal("config.json", b'{"a": 1}\n'),
                lfs("weights/model.safetensors", big),
                normal("empty.txt", b""),
                normal("dir/ünï cödé.txt", "ünï\n".encode())]
        r = self.commit(o, n, acts)
        self.assertEqual(r.status, 200, r.body)
        oid = r.json()["Data"]["oid"]
        self.assertRegex(oid, r"^[0-9a-f]{40}$")
        gd = self.gitdir(o, n)
        head = subprocess.run(["git", "--git-dir=" + gd, "rev-parse",
                               "refs/heads/master"], stdout=subprocess.PIPE)
        self.assertEqual(head.stdout.decode().strip(), oid)
        show = lambda p: subprocess.run(  # noqa: E731
            ["git", "--git-dir=" + gd, "show", "master:" + p],
            stdout=subprocess.PIPE).stdout
        self.assertEqual(show("config.json"), b'{"a": 1}\n')
        self.assertEqual(show("empty.txt"), b"")
        self.assertEqual(show("weights/model.safetensors"),
                         fakehub.make_pointer(sha(big), len(big)))
        ga = show(".gitattributes").decode()
        self.assertIn("weights/model.safetensors filter=lfs diff=lfs "
                      "merge=lfs -text", ga)
        msg = subprocess.run(["git", "--git-dir=" + gd, "log", "-1",
                              "--format=%B", oid], stdout=subprocess.PIPE)
        self.assertEqual(msg.stdout.decode().strip(), "test commit")
        # the listing
        fl = self.files(o, n)
        self.assertEqual(fl["config.json"]["Sha256"], sha(b'{"a": 1}\n'))
        self.assertEqual(fl["config.json"]["Size"], 9)
        self.assertEqual(fl["weights/model.safetensors"]["Sha256"], sha(big))
        self.assertEqual(fl["weights/model.safetensors"]["Size"], len(big))
        self.assertEqual(fl["empty.txt"]["Sha256"], sha(b""))
        self.assertEqual(fl["weights"]["Type"], "tree")
        self.assertEqual(fl["dir/ünï cödé.txt"]["Name"], "ünï cödé.txt")
        # downloads (lfs content, not the pointer)
        r = self.request("GET", "/api/v1/models/%s/%s/repo?%s" % (
            o, n, urllib.parse.urlencode({
                "Revision": "master",
                "FilePath": "weights/model.safetensors"})), auth=None)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, big)
        r = self.request("GET", "/api/v1/models/%s/%s/repo?%s" % (
            o, n, urllib.parse.urlencode({
                "Revision": "master", "FilePath": "dir/ünï cödé.txt"})))
        self.assertEqual(r.body, "ünï\n".encode())
        r = self.request("GET", "/api/v1/models/%s/%s/repo?Revision=master"
                         "&FilePath=nope" % (o, n))
        self.assertLegacyError(r, 404)

    def test_listing_root_and_non_recursive(self):
        o, n = self.new_repo()
        self.assertEqual(self.commit(o, n, [
            normal("a/b/c.txt", b"c"), normal("a/d.txt", b"d"),
            normal("e.txt", b"e")]).status, 200)
        self.assertEqual(set(self.files(o, n, root="a")),
                         {"a/b", "a/b/c.txt", "a/d.txt"})
        self.assertEqual(set(self.files(o, n, recursive=False)),
                         {"a", "e.txt"})
        self.assertEqual(set(self.files(o, n, root="a", recursive=False)),
                         {"a/b", "a/d.txt"})
        r = self.request("GET", "/api/v1/models/%s/%s/repo/files?Revision="
                         "nobranch&Recursive=True" % (o, n))
        self.assertLegacyError(r, 404)

    def test_update_overwrite_delete_and_gitattributes(self):
        o, n = self.new_repo()
        big = os.urandom(5000)
        self.put_blob(big)
        self.assertEqual(self.commit(o, n, [
            lfs("m.bin", big), lfs("x y/#w.bin", big),
            normal("keep.txt", b"k")]).status, 200)
        fl = self.files(o, n)
        self.assertTrue(fl["m.bin"]["IsLFS"])
        gd = self.gitdir(o, n)
        ga = subprocess.run(["git", "--git-dir=" + gd, "show",
                             "master:.gitattributes"],
                            stdout=subprocess.PIPE).stdout.decode()
        self.assertIn("x[[:space:]]y/\\#w.bin filter=lfs", ga)
        # m.bin becomes a normal file; x y/#w.bin is deleted
        r = self.commit(o, n, [normal("m.bin", b"now small", "update"),
                               delete("x y/#w.bin")])
        self.assertEqual(r.status, 200, r.body)
        fl = self.files(o, n)
        self.assertEqual(fl["m.bin"]["Sha256"], sha(b"now small"))
        self.assertFalse(fl["m.bin"]["IsLFS"])
        self.assertNotIn("x y/#w.bin", fl)
        self.assertNotIn("x y", fl)
        self.assertIn("keep.txt", fl)
        # the .gitattributes the hub made and then emptied is removed
        self.assertNotIn(".gitattributes", fl)

    def test_user_gitattributes_is_merged(self):
        o, n = self.new_repo()
        big = os.urandom(100)
        self.put_blob(big)
        r = self.commit(o, n, [normal(".gitattributes", b"*.txt text\n"),
                               lfs("w.bin", big)])
        self.assertEqual(r.status, 200)
        ga = self.request("GET", "/api/v1/models/%s/%s/repo?Revision=master"
                          "&FilePath=.gitattributes" % (o, n)).body.decode()
        self.assertEqual(ga, "*.txt text\n/w.bin filter=lfs diff=lfs "
                         "merge=lfs -text\n")

    def test_path_not_normal_refused(self):
        """A path the hub would have to normalise is refused (400), never
        silently normalised."""
        o, n = self.new_repo()
        for bad in ("./a.txt", "a//b.txt", "a/", "sub/", "a/./b.txt",
                    "./a//b/./c.txt", "a\\b.txt", "dir\\", "."):
            msg = self.assertRefused(o, n, [normal("ok.txt", b"fine"),
                                            normal(bad, b"x")])
            self.assertIn(repr(bad), msg)
            if "\\" in bad:
                self.assertIn("backslash", msg)
            elif bad != ".":
                self.assertIn("normal form", msg)
        r = self.commit(o, n, [normal("a/b/c.txt", b"x")])
        self.assertEqual(r.status, 200, r.body)
        self.assertIn("a/b/c.txt", self.files(o, n))
        r = self.request("DELETE", "/api/v1/models/%s/%s/file?FilePath=./a/"
                         "b/c.txt&Revision=master" % (o, n))
        self.assertLegacyError(r, 400)
        self.assertIn("normal form", r.json()["Message"])
        self.assertIn("a/b/c.txt", self.files(o, n))

    def assertRefused(self, o, n, actions, status=400, rev="master"):
        gd = self.gitdir(o, n)
        before = subprocess.run(["git", "--git-dir=" + gd, "for-each-ref"],
                                stdout=subprocess.PIPE).stdout
        r = self.commit(o, n, actions, rev=rev)
        self.assertLegacyError(r, status)
        after = subprocess.run(["git", "--git-dir=" + gd, "for-each-ref"],
                               stdout=subprocess.PIPE).stdout
        self.assertEqual(before, after, "refs changed by a refused commit")
        return r.json()["Message"]

    def test_strict_checks(self):
        o, n = self.new_repo()
        ok = normal("good.txt", b"fine")
        big = os.urandom(300)
        self.put_blob(big)
        bad_b64 = dict(normal("a.txt", b"abc"), content="!!notbase64!!")
        short = dict(normal("a.txt", b"abcd"), size=3)
        for acts in (
                [ok, normal("../evil", b"x")],
                [ok, normal("a/../../evil", b"x")],
                [ok, normal("/abs", b"x")],
                [ok, normal("", b"x")],
                [ok, normal(".git/config", b"x")],
                [ok, bad_b64],
                [ok, short],
                [ok, dict(normal("a.txt", b"abc"), sha256=sha(b"other"))],
                [ok, dict(normal("a.txt", b"abc"), encoding="")],
                [ok, lfs("w.bin", b"never uploaded")],
                [ok, dict(lfs("w.bin", big), size=len(big) + 1)],
                [ok, dict(lfs("w.bin", big), sha256="abc")],
                [ok, dict(ok, action="move")],
                [ok, dict(ok, type="weird")],
                [ok, dict(ok, size="4")],
                [ok, ok],
                [ok, normal("good.txt/sub", b"x")],
                [ok, delete("does-not-exist")],
        ):
            self.assertRefused(o, n, acts)
        for key in fakehub.ACTION_KEYS:
            a = dict(ok)
            del a[key]
            msg = self.assertRefused(o, n, [a])
            self.assertIn(key, msg)
        self.assertRefused(o, n, [])
        self.assertRefused(o, n, [ok], rev="bad..branch")
        r = self.request("POST", "/api/v1/repos/models/%s/%s/commit/master"
                         % (o, n), body=b"{not json", auth="bearer")
        self.assertLegacyError(r, 400)
        # nothing was ever committed
        self.assertEqual(self.files(o, n), {})

    def test_atomic_on_existing_branch(self):
        o, n = self.new_repo()
        self.assertEqual(self.commit(o, n, [normal("a.txt", b"1")]).status,
                         200)
        self.assertRefused(o, n, [normal("a.txt", b"2"),
                                  normal("b.txt", b"2"),
                                  lfs("c.bin", b"missing blob")])
        fl = self.files(o, n)
        self.assertEqual(set(fl), {"a.txt"})
        self.assertEqual(fl["a.txt"]["Sha256"], sha(b"1"))

    def test_commit_auth(self):
        o, n = self.new_repo()
        for auth, token in ((None, TOKEN), ("bearer", "bad"),
                            ("cookie", "bad")):
            r = self.commit(o, n, [normal("a", b"a")], auth=auth,
                            token=token)
            self.assertLegacyError(r, 401)
        self.assertEqual(self.commit(o, n, [normal("a", b"a")],
                                     auth="bearer").status, 200)
        r = self.request("POST", "/api/v1/repos/models/alice/absent/commit/"
                         "master", {"commit_message": "m",
                                    "actions": [normal("a", b"a")]})
        self.assertLegacyError(r, 404)

    def test_branches_revisions_tags_commits(self):
        o, n = self.new_repo()
        c1 = self.commit(o, n, [normal("a", b"a")]).json()["Data"]["oid"]
        c2 = self.commit(o, n, [normal("b", b"b")], rev="dev",
                         msg="on dev").json()["Data"]["oid"]
        self.assertNotEqual(c1, c2)
        # a new branch starts from the default branch's head
        self.assertEqual(set(self.files(o, n, rev="dev")), {"a", "b"})
        parent = subprocess.run(["git", "--git-dir=" + self.gitdir(o, n),
                                 "rev-parse", c2 + "^"],
                                stdout=subprocess.PIPE)
        self.assertEqual(parent.stdout.decode().strip(), c1)
        self.assertEqual(set(self.files(o, n, rev=c1)), {"a"})
        r = self.request("POST", "/api/v1/models/%s/%s/repo/tag" % (o, n),
                         {"TagName": "v1.0", "Ref": "master"})
        self.assertEqual(r.status, 200, r.body)
        r = self.request("POST", "/api/v1/models/%s/%s/repo/tag" % (o, n),
                         {"TagName": "v1.0", "Ref": "master"})
        self.assertLegacyError(r, 400)
        r = self.request("GET", "/api/v1/models/%s/%s/revisions" % (o, n))
        rm = r.json()["Data"]["RevisionMap"]
        self.assertEqual({b["Revision"] for b in rm["Branches"]},
                         {"master", "dev"})
        self.assertEqual([t["Revision"] for t in rm["Tags"]], ["v1.0"])
        self.assertEqual(set(self.files(o, n, rev="v1.0")), {"a"})
        c3 = self.commit(o, n, [normal("c", b"c")]).json()["Data"]["oid"]
        r = self.request("GET", "/api/v1/models/%s/%s/commits?Ref=master&"
                         "PageNumber=1&PageSize=50" % (o, n))
        j = r.json()
        self.assertEqual(j["TotalCount"], 2)
        self.assertEqual([c["Id"] for c in j["Data"]["Commit"]], [c3, c1])
        self.assertEqual(j["Data"]["Commit"][0]["Title"], "test commit")

    def test_delete_endpoint(self):
        o, n = self.new_repo()
        self.commit(o, n, [normal("a", b"a"), normal("b", b"b")])
        r = self.request("DELETE", "/api/v1/models/%s/%s/file?FilePath=a&"
                         "Revision=master" % (o, n), auth=None)
        self.assertLegacyError(r, 401)
        r = self.request("DELETE", "/api/v1/models/%s/%s/file?FilePath=a&"
                         "Revision=master" % (o, n))
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(set(self.files(o, n)), {"b"})
        r = self.request("DELETE", "/api/v1/models/%s/%s/file?FilePath=a&"
                         "Revision=master" % (o, n))
        self.assertLegacyError(r, 400)

    def test_concurrent_commits_all_land(self):
        o, n = self.new_repo()
        res = []

        def one(i):
            res.append(self.commit(o, n, [normal("f%d" % i, b"%d" % i)])
                       .status)
        ts = [threading.Thread(target=one, args=(i,)) for i in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(res, [200] * 8)
        self.assertEqual(set(self.files(o, n)),
                         {"f%d" % i for i in range(8)})

    def test_large_commit_body(self):
        o, n = self.new_repo()
        acts = [normal("many/%03d.txt" % i, b"x" * i) for i in range(300)]
        r = self.commit(o, n, acts)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(len([p for p in self.files(o, n)
                              if p.startswith("many/")]), 300)


# ------------------------------------------------------------- log, faults

class TestLog(HubCase):
    def test_log_records_and_never_token(self):
        o, n = self.new_repo()
        self.commit(o, n, [normal("a", b"a")], auth="both")
        self.request("GET", "/openapi/v1/users/me", auth="basic")
        self.request("GET", "/openapi/v1/users/me", auth=None)
        self.request("POST", "/api/v1/login", {"AccessToken": TOKEN})
        self.request("GET", "/api/v1/models/%s/%s?token=%s" % (o, n, TOKEN),
                     headers={"X-Request-ID": "rid-42"})
        with open(self.hub.logpath, encoding="utf-8") as f:
            text = f.read()
        self.assertNotIn(TOKEN, text)
        self.assertNotIn(fakehub.Hub.__name__ and "gt-", text)
        recs = [json.loads(x) for x in text.splitlines()]
        for r in recs:
            for k in ("ts", "method", "path", "query", "status", "req_bytes",
                      "auth", "request_id"):
                self.assertIn(k, r)
        c = [r for r in recs if r["path"].endswith("/commit/master")][-1]
        self.assertEqual((c["method"], c["status"], c["auth"]),
                         ("POST", 200, "bearer"))
        self.assertEqual(c["auth_kinds"], ["bearer", "cookie"])
        self.assertEqual(c["actions"][0]["path"], "a")
        self.assertGreater(c["req_bytes"], 0)
        kinds = [r["auth"] for r in recs if r["path"] ==
                 "/openapi/v1/users/me"][-2:]
        self.assertEqual(kinds, ["basic", "none"])
        last = recs[-1]
        self.assertEqual(last["request_id"], "rid-42")
        self.assertEqual(last["query"], "token=%2A%2A%2A")


class TestFaults(HubCase):
    hub_args = (
        "--fault", "POST:/api/v1/repos/*/commit/*:status=503:nth=2",
        "--fault", "GET:/fault/429:status=429:retry_after=7",
        "--fault", "GET:/fault/html:html=502",
        "--fault", "GET:/fault/malformed:malformed",
        "--fault", "GET:~^/fault/always-[0-9]+$:status=500:times=always",
        "--fault", "GET:/fault/twice:status=502:nth=2:times=2",
        "--fault", "PUT:/lfs-upload/*:reset=1000",
        "--fault", "GET:/fault/delay:delay=0.6",
        "--fault", "GET:/fault/drop:drop",
        "--fault", "POST:/api/v1/repos/models/alice/refs/commit/*:refs=500",
        "--fault", "POST:/api/v1/repos/models/alice/refs400/commit/*:refs=400",
    )

    def test_commit_status_nth(self):
        o, n = self.new_repo()
        self.assertEqual(self.commit(o, n, [normal("a", b"1")]).status, 200)
        r = self.commit(o, n, [normal("a", b"2")])
        self.assertLegacyError(r, 503)
        self.assertEqual(self.files(o, n)["a"]["Sha256"], sha(b"1"))
        self.assertEqual(self.commit(o, n, [normal("a", b"3")]).status, 200)

    def test_429_retry_after(self):
        r = self.request("GET", "/fault/429")
        self.assertLegacyError(r, 429)
        self.assertEqual(r.header("Retry-After"), "7")
        self.assertEqual(self.request("GET", "/fault/429").status, 404)

    def test_html_and_malformed(self):
        r = self.request("GET", "/fault/html")
        self.assertEqual(r.status, 502)
        self.assertTrue(r.header("Content-Type").startswith("text/html"))
        self.assertRaises(ValueError, r.json)
        r = self.request("GET", "/fault/malformed")
        self.assertEqual(r.status, 200)
        self.assertRaises(ValueError, r.json)

    def test_always_regex(self):
        for _ in range(3):
            self.assertLegacyError(self.request("GET", "/fault/always-12"),
                                   500)
        self.assertEqual(self.request("GET", "/fault/always-x").status, 404)

    def test_times_k(self):
        got = [self.request("GET", "/fault/twice").status for _ in range(5)]
        self.assertEqual(got, [404, 502, 502, 404, 404])

    def test_reset_after_bytes(self):
        data = os.urandom(100000)
        with self.assertRaises((ConnectionError, http.client.HTTPException,
                                OSError)):
            self.put_blob(data)
        self.assertEqual(self.put_blob(data).status, 200)  # once only
        recs = [r for r in self.hub.log() if r.get("status") == "reset"]
        self.assertEqual(len(recs), 1)
        self.assertEqual(recs[0]["req_bytes"], 1000)

    def test_delay(self):
        t0 = time.time()
        self.assertEqual(self.request("GET", "/fault/delay").status, 404)
        self.assertGreaterEqual(time.time() - t0, 0.55)

    def test_drop(self):
        with self.assertRaises((ConnectionError, http.client.HTTPException,
                                OSError)):
            self.request("GET", "/fault/drop")

    def test_could_not_update_refs(self):
        for name, status in (("refs", 500), ("refs400", 400)):
            r = self.request("POST", "/api/v1/models", {"Path": "alice",
                                                        "Name": name})
            self.assertEqual(r.status, 200)
            r = self.commit("alice", name, [normal("a", b"a")])
            self.assertLegacyError(r, status)
            self.assertIn("Could not update refs", r.json()["Message"])
            self.assertEqual(self.files("alice", name), {})
            self.assertEqual(self.commit("alice", name,
                                         [normal("a", b"a")]).status, 200)

    def test_bad_spec_refused(self):
        p = subprocess.run([sys.executable, FAKEHUB, "--data", self.tmp,
                            "--token", "t", "--fault", "GET:/x:explode"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertNotEqual(p.returncode, 0)

    def test_spec_parsing(self):
        f = fakehub.Fault("*:~^/a:b/c$:status=502:nth=3:times=always")
        self.assertEqual((f.method, f.path, f.kind, f.arg, f.nth, f.times),
                         ("*", "~^/a:b/c$", "status", 502, 3, None))
        self.assertTrue(f.matches("PUT", "/a:b/c"))
        self.assertEqual([f.fire() for _ in range(5)],
                         [False, False, True, True, True])


# ------------------------------------------------------------ git route

CRED_HELPER = ('!f() { test "$1" = get || exit 0; echo username=oauth2; '
               'echo "password=${FAKEHUB_TEST_TOKEN}"; }; f')


def write_tree(root, files):
    for rel, data in files.items():
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)


def sample_files():
    return {
        "config.json": b'{"architectures": ["Demo"]}\n',
        "empty.txt": b"",
        "sub dir/nested/deep file.txt": b"deep\n",
        "模型/说明.md": "你好\n".encode(),
        "weights/model.safetensors": os.urandom((1 << 20) + 17),
        "tokenizer.bin": os.urandom(4096),
    }


class GitCase(HubCase):
    def creds(self, token=TOKEN):
        return {"FAKEHUB_TEST_TOKEN": token}

    def git_c(self, *args, token=TOKEN, **kw):
        """git with the credential helper (token from the environment)."""
        env = dict(kw.pop("env", None) or {})
        env.update(self.creds(token))
        return self.git("-c", "credential.helper=" + CRED_HELPER, *args,
                        env=env, **kw)

    def publish_http(self, o, n, files, rev="master"):
        acts = []
        for path, data in files.items():
            if path.endswith((".bin", ".safetensors")):
                self.assertEqual(self.put_blob(data).status, 200)
                acts.append(lfs(path, data))
            else:
                acts.append(normal(path, data))
        r = self.commit(o, n, acts, rev=rev)
        self.assertEqual(r.status, 200, r.body)
        return r.json()["Data"]["oid"]

    def clone(self, url, dest, **kw):
        self.git_c("clone", "-q", url, dest,
                   env={"GIT_LFS_SKIP_SMUDGE": "1"}, **kw)
        self.git_c("lfs", "pull", cwd=dest)

    def read_tree(self, root):
        out = {}
        for dp, dns, fns in os.walk(root):
            dns[:] = [d for d in dns if d != ".git"]
            for fn in fns:
                p = os.path.join(dp, fn)
                with open(p, "rb") as f:
                    out[os.path.relpath(p, root)] = f.read()
        out.pop(".gitattributes", None)
        return out


class TestGit(GitCase):
    def test_clone_and_lfs_pull_of_http_commit(self):
        o, n = self.new_repo()
        files = sample_files()
        cid = self.publish_http(o, n, files)
        for i, form in enumerate(("%s/%s/%s.git", "%s/models/%s/%s.git")):
            dest = os.path.join(self.tmp, "clone-http-%s-%d" % (n, i))
            self.clone(form % (self.hub.url, o, n), dest)
            self.assertEqual(self.read_tree(dest), files)
            head = self.git("rev-parse", "HEAD", cwd=dest)
            self.assertEqual(head.stdout.decode().strip(), cid)
            st = self.git("status", "--porcelain", cwd=dest)
            self.assertEqual(st.stdout, b"")

    def test_push_with_lfs_autocreates_and_publishes(self):
        name = "pushed-" + os.urandom(3).hex()
        work = os.path.join(self.tmp, name)
        os.makedirs(work)
        files = sample_files()
        self.git("init", "-q", work)
        self.git("lfs", "track", "*.safetensors", "*.bin", cwd=work)
        write_tree(work, files)
        self.git("add", "-A", cwd=work)
        self.git("commit", "-q", "-m", "first", cwd=work)
        url = "%s/alice/%s.git" % (self.hub.url, name)
        # no credentials: refused with a Basic challenge, nothing created
        p = self.git("push", url, "master", cwd=work, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertFalse(os.path.exists(self.gitdir("alice", name)))
        rec = [r for r in self.hub.log()
               if r["path"] == "/alice/%s.git/info/refs" % name]
        self.assertEqual(rec[-1]["status"], 401)
        # a wrong token is refused too
        p = self.git_c("push", url, "master", cwd=work, check=False,
                       token="wrong")
        self.assertNotEqual(p.returncode, 0)
        # with the token: git-lfs uploads, the push creates the repo
        self.git_c("push", "-q", url, "master", cwd=work)
        self.assertTrue(os.path.isdir(self.gitdir("alice", name)))
        fl = self.files("alice", name)
        w = fl["weights/model.safetensors"]
        self.assertEqual(w["Sha256"], sha(files["weights/model.safetensors"]))
        self.assertTrue(w["IsLFS"])
        self.assertEqual(fl["模型/说明.md"]["Sha256"], sha(files["模型/说明.md"]))
        # an HTTP commit on top of the pushed history
        self.assertEqual(self.commit("alice", name, [
            normal("added.txt", b"over http\n")]).status, 200)
        dest = os.path.join(self.tmp, name + "-clone")
        self.clone("%s/models/alice/%s.git" % (self.hub.url, name), dest)
        want = dict(files)
        want["added.txt"] = b"over http\n"
        self.assertEqual(self.read_tree(dest), want)
        # and a push on top of that
        write_tree(dest, {"more/x.bin": os.urandom(3000)})
        self.git("add", "-A", cwd=dest)
        self.git("commit", "-q", "-m", "second", cwd=dest)
        self.git_c("push", "-q", "origin", "master", cwd=dest)
        self.assertIn("more/x.bin", self.files("alice", name))

    def test_push_of_pointer_without_object_refused(self):
        o, n = self.new_repo()
        work = os.path.join(self.tmp, "nolfs-" + n)
        self.git("init", "-q", work)
        ptr = fakehub.make_pointer(sha(b"never uploaded"), 14)
        write_tree(work, {"w.bin": ptr})
        self.git("add", "-A", cwd=work)
        self.git("commit", "-q", "-m", "pointer only", cwd=work)
        p = self.git_c("push", "%s/%s/%s.git" % (self.hub.url, o, n),
                       "master", cwd=work, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"fakehub: refusing push", p.stderr)
        self.assertEqual(self.files(o, n), {})

    def test_private_clone_needs_token(self):
        o, n = self.new_repo(visibility=1)
        files = {"a.txt": b"private\n", "w.bin": os.urandom(2000)}
        self.publish_http(o, n, files)
        url = "%s/%s/%s.git" % (self.hub.url, o, n)
        p = self.git("clone", "-q", url, os.path.join(self.tmp, "p1-" + n),
                     check=False)
        self.assertNotEqual(p.returncode, 0)
        p = self.git_c("clone", "-q", url, os.path.join(self.tmp, "p2-" + n),
                       check=False, token="bad")
        self.assertNotEqual(p.returncode, 0)
        dest = os.path.join(self.tmp, "p3-" + n)
        self.clone(url, dest)
        self.assertEqual(self.read_tree(dest), files)
        # the login git token works for git too
        gt = self.request("POST", "/api/v1/login", {"AccessToken": TOKEN}
                          ).json()["Data"]["AccessToken"]
        dest = os.path.join(self.tmp, "p4-" + n)
        self.git_c("clone", "-q", url, dest, token=gt)

    def test_big_pack_push_chunked(self):
        """A pack over http.postBuffer goes up with chunked encoding."""
        name = "chunked-" + os.urandom(3).hex()
        work = os.path.join(self.tmp, name)
        self.git("init", "-q", work)
        files = {"plain.dat": os.urandom(3 << 20)}
        write_tree(work, files)
        self.git("add", "-A", cwd=work)
        self.git("commit", "-q", "-m", "big plain file", cwd=work)
        self.git_c("-c", "http.postBuffer=65536", "push", "-q",
                   "%s/alice/%s.git" % (self.hub.url, name), "master",
                   cwd=work)
        rec = [r for r in self.hub.log()
               if r["path"] == "/alice/%s.git/git-receive-pack" % name]
        self.assertEqual(rec[-1]["status"], 200)
        self.assertGreater(rec[-1]["req_bytes"], 3 << 20)
        self.assertTrue(rec[-1].get("chunked"))
        fl = self.files("alice", name)
        self.assertEqual(fl["plain.dat"]["Sha256"], sha(files["plain.dat"]))
        self.assertFalse(fl["plain.dat"]["IsLFS"])

    def test_gzip_upload_pack_request(self):
        import gzip
        o, n = self.new_repo()
        cid = self.publish_http(o, n, {"a.txt": b"a\n"})
        want = "want %s\n" % cid
        req = ("%04x%s0000" % (len(want) + 4, want) + "0009done\n").encode()
        r = self.request("POST", "/%s/%s.git/git-upload-pack" % (o, n),
                         body=gzip.compress(req), auth=None, headers={
                             "Content-Type":
                             "application/x-git-upload-pack-request",
                             "Content-Encoding": "gzip"})
        self.assertEqual(r.status, 200, r.body[:200])
        self.assertTrue(r.body.startswith(b"0008NAK\nPACK"), r.body[:40])
        self.assertEqual(int(r.header("Content-Length")), len(r.body))

    def test_clone_absent_repo_fails(self):
        p = self.git("clone", "-q", self.hub.url + "/alice/absent.git",
                     os.path.join(self.tmp, "absent"), check=False)
        self.assertNotEqual(p.returncode, 0)

    def test_lfs_batch_api(self):
        o, n = self.new_repo()
        have, miss = os.urandom(700), os.urandom(800)
        self.put_blob(have)
        path = "/%s/%s.git/info/lfs/objects/batch" % (o, n)
        hdr = {"Accept": fakehub.LFS_MEDIA, "Content-Type": fakehub.LFS_MEDIA}
        objs = [{"oid": sha(have), "size": len(have)},
                {"oid": sha(miss), "size": len(miss)}]
        r = self.request("POST", path, {"operation": "upload",
                                        "transfers": ["basic"],
                                        "objects": objs},
                         headers=hdr, auth=None)
        self.assertEqual(r.status, 401)
        self.assertIn("Basic", r.header("LFS-Authenticate"))
        r = self.request("POST", path, {"operation": "upload",
                                        "objects": objs},
                         headers=hdr, auth="basic")
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.header("Content-Type"), fakehub.LFS_MEDIA)
        j = r.json()
        self.assertEqual(j["transfer"], "basic")
        got = {x["oid"]: x for x in j["objects"]}
        self.assertNotIn("actions", got[sha(have)])
        up = got[sha(miss)]["actions"]["upload"]
        self.assertTrue(up["href"].startswith(self.hub.url))
        # the hub href takes no Basic: the header is an upload ticket
        self.assertRegex(up["header"]["Authorization"],
                         r"^Bearer lfsput-[0-9a-f]{40}$")
        u = urllib.parse.urlsplit(up["href"])
        r = self.request("PUT", u.path + "?" + u.query, body=miss,
                         auth="basic")
        self.assertLegacyError(r, 401)
        # the ticket is for that object only
        r = self.request("PUT", "/lfs-upload/%s" % sha(have), body=have,
                         headers=up["header"], auth=None)
        self.assertLegacyError(r, 401)
        r = self.request("GET", "/api/v1/models/%s/%s" % (o, n),
                         headers=up["header"], auth=None)
        self.assertLegacyError(r, 401)
        # PUT with exactly the given href and header, then verify
        u = urllib.parse.urlsplit(up["href"])
        r = self.request("PUT", u.path + "?" + u.query, body=miss,
                         headers=up["header"], auth=None)
        self.assertEqual(r.status, 200)
        ver = got[sha(miss)]["actions"]["verify"]
        r = self.request("POST", urllib.parse.urlsplit(ver["href"]).path,
                         {"oid": sha(miss), "size": len(miss)},
                         headers=ver["header"], auth=None)
        self.assertEqual(r.status, 200)
        # downloads: public repo needs no auth; a missing object is an error
        r = self.request("POST", path, {"operation": "download", "objects": [
            {"oid": sha(miss), "size": len(miss)},
            {"oid": sha(b"nope"), "size": 4}]}, headers=hdr, auth=None)
        self.assertEqual(r.status, 200)
        got = {x["oid"]: x for x in r.json()["objects"]}
        self.assertEqual(got[sha(b"nope")]["error"]["code"], 404)
        href = got[sha(miss)]["actions"]["download"]["href"]
        r = self.request("GET", urllib.parse.urlsplit(href).path, auth=None)
        self.assertEqual(r.body, miss)
        r = self.request("POST", "/alice/absent.git/info/lfs/objects/batch",
                         {"operation": "download", "objects": []},
                         headers=hdr, auth="basic")
        self.assertEqual(r.status, 404)


# ------------------------------------------------------ object-store mode

class TestBlobStore(GitCase):
    """Upload hrefs point at a real nginx WebDAV server (blobstore.sh)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="fakehub-test-")
        cls.bs = os.path.join(cls.tmp, "blobstore")
        p = subprocess.run(["bash", BLOBSTORE, "start", cls.bs],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode != 0:
            raise RuntimeError("blobstore.sh start failed: %s" %
                               p.stderr.decode())
        cls.bs_url = p.stdout.decode().strip()
        try:
            cls.hub = HubProc(cls.tmp, "--blob-store-url", cls.bs_url,
                              "--blob-store-dir", cls.bs)
        except Exception:
            subprocess.run(["bash", BLOBSTORE, "stop", cls.bs])
            raise
        cls.env = git_home(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        cls.hub.stop()
        subprocess.run(["bash", BLOBSTORE, "stop", cls.bs])
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def href_for(self, o, n, data):
        r = self.request("POST", "/api/v1/repos/models/%s/%s/info/lfs/"
                         "objects/batch" % (o, n), {
                             "operation": "upload", "objects": [
                                 {"oid": sha(data), "size": len(data)}]})
        self.assertEqual(r.status, 200, r.body)
        objs = r.json()["Data"]["objects"]
        return objs[0]["actions"]["upload"]["href"] if objs else None

    def put_to(self, href, data):
        u = urllib.parse.urlsplit(href)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        try:
            conn.request("PUT", u.path, body=data, headers={
                "Authorization": "Bearer " + TOKEN,
                "Cookie": "m_session_id=" + TOKEN})
            r = conn.getresponse()
            r.read()
            return r.status
        finally:
            conn.close()

    def store_path(self, oid):
        return os.path.join(self.hub.data, "lfs", "objects", oid[:2],
                            oid[2:4], oid)

    def test_upload_via_nginx_then_commit_imports(self):
        o, n = self.new_repo()
        data = os.urandom((8 << 20) + 3)
        href = self.href_for(o, n, data)
        self.assertTrue(href.startswith(self.bs_url + "/"), href)
        self.assertIn(self.put_to(href, data), (200, 201, 204))
        self.assertFalse(os.path.exists(self.store_path(sha(data))))
        r = self.commit(o, n, [lfs("big.safetensors", data),
                               normal("c.json", b"{}")])
        self.assertEqual(r.status, 200, r.body)
        with open(self.store_path(sha(data)), "rb") as f:
            self.assertEqual(f.read(), data)
        fl = self.files(o, n)
        self.assertEqual(fl["big.safetensors"]["Sha256"], sha(data))
        # now known: the batch no longer lists it
        self.assertIsNone(self.href_for(o, n, data))
        r = self.request("GET", "/api/v1/models/%s/%s/repo?Revision=master"
                         "&FilePath=big.safetensors" % (o, n))
        self.assertEqual(r.body, data)

    def test_bad_upload_refused_at_commit(self):
        o, n = self.new_repo()
        data = os.urandom(5000)
        href = self.href_for(o, n, data)
        wrong = bytearray(data)
        wrong[10] ^= 1
        self.assertIn(self.put_to(href, bytes(wrong)), (200, 201, 204))
        r = self.commit(o, n, [lfs("w.bin", data)])
        self.assertLegacyError(r, 400)
        self.assertIn("sha256", r.json()["Message"])
        self.assertEqual(self.files(o, n), {})
        # the bad upload is gone; a wrong size is refused as well
        self.assertFalse(os.path.exists(os.path.join(
            self.bs, "root", "objects", sha(data))))
        self.put_to(href, data + b"x")
        r = self.commit(o, n, [lfs("w.bin", data)])
        self.assertLegacyError(r, 400)
        self.assertIn("expected", r.json()["Message"])
        # a good upload then commits
        self.put_to(href, data)
        self.assertEqual(self.commit(o, n, [lfs("w.bin", data)]).status, 200)

    def test_commit_of_several_uploads_checks_each(self):
        # the hub verifies a commit's objects in parallel; one bad object
        # among good ones still refuses the whole commit, naming its path
        o, n = self.new_repo()
        blobs = [os.urandom((1 << 20) + i) for i in range(4)]
        for i, b in enumerate(blobs):
            body = b if i != 2 else b[:-1] + bytes([b[-1] ^ 1])
            self.assertIn(self.put_to(self.href_for(o, n, b), body),
                          (200, 201, 204))
        acts = [lfs("w%d.bin" % i, b) for i, b in enumerate(blobs)]
        r = self.commit(o, n, acts)
        self.assertLegacyError(r, 400)
        self.assertIn("w2.bin", r.json()["Message"])
        self.assertEqual(self.files(o, n), {})
        self.put_to(self.href_for(o, n, blobs[2]), blobs[2])
        self.assertEqual(self.commit(o, n, acts).status, 200)
        fl = self.files(o, n)
        for i, b in enumerate(blobs):
            self.assertEqual(fl["w%d.bin" % i]["Sha256"], sha(b))
            with open(self.store_path(sha(b)), "rb") as f:
                self.assertEqual(f.read(), b)

    def test_git_lfs_push_through_nginx(self):
        name = "bspush-" + os.urandom(3).hex()
        work = os.path.join(self.tmp, name)
        self.git("init", "-q", work)
        self.git("lfs", "track", "*.bin", cwd=work)
        files = {"a.bin": os.urandom(200000), "b.txt": b"b\n"}
        write_tree(work, files)
        self.git("add", "-A", cwd=work)
        self.git("commit", "-q", "-m", "m", cwd=work)
        self.git_c("push", "-q", "%s/alice/%s.git" % (self.hub.url, name),
                   "master", cwd=work)
        with open(os.path.join(self.bs, "logs", "access.log")) as f:
            self.assertIn("PUT /objects/%s " % sha(files["a.bin"]), f.read())
        self.assertTrue(os.path.exists(self.store_path(sha(files["a.bin"]))))
        dest = os.path.join(self.tmp, name + "-clone")
        self.clone("%s/alice/%s.git" % (self.hub.url, name), dest)
        self.assertEqual(self.read_tree(dest), files)
        # verify.sh agrees
        folder = os.path.join(self.tmp, name + "-folder")
        write_tree(folder, files)
        p = subprocess.run(["bash", VERIFY, self.hub.url, "alice/" + name,
                            folder], stdout=subprocess.PIPE, env=self.env)
        self.assertEqual(p.stdout.decode().strip(), "2 files identical")

    def test_git_push_with_corrupt_blob_refused(self):
        """A pointer whose object reached the blob store corrupted is
        refused by the pre-receive hook (verify + import on first use)."""
        o, n = self.new_repo()
        data = os.urandom(3000)
        # flip a bit of the last byte: always differs (replacing it with a
        # fixed byte left the object intact whenever the random data
        # already ended with that byte, 1 run in 256, and the push passed)
        bad = bytearray(data)
        bad[-1] ^= 1
        self.assertNotEqual(sha(bytes(bad)), sha(data))
        blob = os.path.join(self.bs, "root", "objects", sha(data))
        os.makedirs(os.path.dirname(blob), exist_ok=True)
        with open(blob, "wb") as f:
            f.write(bytes(bad))
        work = os.path.join(self.tmp, "corrupt-" + n)
        self.git("init", "-q", work)
        write_tree(work, {"w.bin": fakehub.make_pointer(sha(data),
                                                         len(data))})
        self.git("add", "-A", cwd=work)
        self.git("commit", "-q", "-m", "m", cwd=work)
        p = self.git_c("push", "%s/%s/%s.git" % (self.hub.url, o, n),
                       "master", cwd=work, check=False)
        self.assertNotEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"fakehub: refusing push, w.bin: LFS object %s: "
                      b"uploaded content has sha256 " % sha(data).encode(),
                      p.stderr)
        # the bad object is deleted, nothing imported, no branch made
        self.assertFalse(os.path.exists(blob))
        self.assertFalse(os.path.exists(self.store_path(sha(data))))
        self.assertEqual(self.files(o, n), {})


# ------------------------------------------------------------ verify.sh

class TestVerify(GitCase):
    def run_verify(self, *args, token=None):
        env = dict(self.env)
        env.pop("MODELSCOPE_API_TOKEN", None)
        if token:
            env["MODELSCOPE_API_TOKEN"] = token
        p = subprocess.run(["bash", VERIFY, self.hub.url] + list(args),
                           env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def test_identical_then_changed_byte(self):
        o, n = self.new_repo()
        files = sample_files()
        self.publish_http(o, n, files)
        folder = os.path.join(self.tmp, "folder-" + n)
        write_tree(folder, files)
        os.makedirs(os.path.join(folder, ".git"))  # ignored by default
        write_tree(folder, {".ms_upload_cache": b"{}"})
        rc, out, err = self.run_verify(o + "/" + n, folder)
        self.assertEqual((rc, out.strip()), (0, "%d files identical" %
                                             len(files)), err)
        # one changed byte in the lfs file
        p = os.path.join(folder, "weights/model.safetensors")
        with open(p, "r+b") as f:
            f.seek(1000)
            b = f.read(1)
            f.seek(1000)
            f.write(bytes([b[0] ^ 1]))
        rc, out, _ = self.run_verify(o + "/" + n, folder)
        self.assertEqual(rc, 1)
        self.assertIn("differs: weights/model.safetensors (first difference "
                      "at byte 1000)", out)
        # a missing local file is an extra in the repo; a new local file is
        # missing in the repo
        os.unlink(p)
        write_tree(folder, {"new file.txt": b"n"})
        rc, out, _ = self.run_verify(o + "/" + n, folder)
        self.assertEqual(rc, 1)
        self.assertIn("extra in repo: weights/model.safetensors", out)
        self.assertIn("missing in repo: new file.txt", out)
        rc, out, _ = self.run_verify(o + "/" + n, folder, "--allow-extra",
                                     "--ignore", "new file.txt")
        self.assertEqual(rc, 0, out)

    def test_prefix_revision_private(self):
        o, n = self.new_repo(visibility=1)
        files = {"a.txt": b"a\n", "w.bin": os.urandom(1500),
                 "empty": b""}
        pref = {"sub/" + k: v for k, v in files.items()}
        self.publish_http(o, n, dict(pref, **{"other.txt": b"o"}),
                          rev="dev")
        folder = os.path.join(self.tmp, "folder-" + n)
        write_tree(folder, files)
        rc, out, err = self.run_verify(o + "/" + n, folder, "sub",
                                       "--revision", "dev")
        self.assertEqual(rc, 2)  # private, no token
        rc, out, err = self.run_verify(o + "/" + n, folder, "sub",
                                       "--revision", "dev", token=TOKEN)
        self.assertEqual((rc, out.strip()), (0, "3 files identical"), err)
        self.assertNotIn(TOKEN, out + err)
        rc, out, err = self.run_verify(o + "/" + n, folder, "--revision",
                                       "dev", token=TOKEN)
        self.assertEqual(rc, 1)
        rc, out, err = self.run_verify(o + "/" + n, folder, "sub",
                                       "--revision", "nobranch", token=TOKEN)
        self.assertEqual(rc, 2)
        self.assertNotIn(TOKEN, out + err)


# ------------------------------------------- fidelity fixes (issue 3 f/u)

class TestRange(HubCase):
    """Range on every file-serving path (the SDK's parallel downloader
    needs 206 + Content-Range)."""

    def paths(self):
        o, n = self.new_repo()
        big = os.urandom(3000)
        small = bytes(range(256)) * 2
        self.assertEqual(self.put_blob(big).status, 200)
        self.assertEqual(self.commit(o, n, [lfs("w.bin", big),
                                            normal("s.txt", small)]).status,
                         200)
        return [("/api/v1/models/%s/%s/repo?Revision=master&FilePath=w.bin"
                 % (o, n), big),
                ("/lfs-download/%s/%s/%s" % (o, n, sha(big)), big),
                ("/api/v1/models/%s/%s/repo?Revision=master&FilePath=s.txt"
                 % (o, n), small)]

    def test_ranges(self):
        for path, data in self.paths():
            size = len(data)
            r = self.request("GET", path, auth=None)
            self.assertEqual((r.status, r.body), (200, data), path)
            self.assertEqual(r.header("Accept-Ranges"), "bytes")
            self.assertIsNone(r.header("Content-Range"))
            for rng, a, b in (("bytes=0-99", 0, 99),
                              ("bytes=100-", 100, size - 1),
                              ("bytes=%d-%d" % (size - 5, size + 50),
                               size - 5, size - 1),
                              ("bytes=-10", size - 10, size - 1),
                              ("bytes=7-7", 7, 7)):
                r = self.request("GET", path, auth=None,
                                 headers={"Range": rng})
                self.assertEqual(r.status, 206, (path, rng))
                self.assertEqual(r.header("Content-Range"),
                                 "bytes %d-%d/%d" % (a, b, size))
                self.assertEqual(r.header("Accept-Ranges"), "bytes")
                self.assertEqual(int(r.header("Content-Length")), b - a + 1)
                self.assertEqual(r.body, data[a:b + 1], (path, rng))
            for rng in ("bytes=%d-" % size, "bytes=%d-%d" % (size + 1,
                                                              size + 9)):
                r = self.request("GET", path, auth=None,
                                 headers={"Range": rng})
                self.assertEqual(r.status, 416, (path, rng))
                self.assertEqual(r.header("Content-Range"),
                                 "bytes */%d" % size)
            # several ranges / other units: ignored, the whole body
            r = self.request("GET", path, auth=None,
                             headers={"Range": "bytes=0-1,5-6"})
            self.assertEqual((r.status, r.body), (200, data))

    def test_parallel_download_reassembles(self):
        path, data = self.paths()[0]
        parts = [None] * 4
        step = (len(data) + 3) // 4

        def get(i):
            a, b = i * step, min(len(data), (i + 1) * step) - 1
            r = self.request("GET", path, auth=None,
                             headers={"Range": "bytes=%d-%d" % (a, b)})
            parts[i] = r.body if r.status == 206 else b"!"
        ts = [threading.Thread(target=get, args=(i,)) for i in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(b"".join(parts), data)

    def test_git_lfs_download_href_range(self):
        o, n = self.new_repo()
        data = os.urandom(2000)
        self.put_blob(data)
        self.commit(o, n, [lfs("w.bin", data)])
        r = self.request("POST", "/%s/%s.git/info/lfs/objects/batch" % (o, n),
                         {"operation": "download", "objects": [
                             {"oid": sha(data), "size": len(data)}]},
                         headers={"Accept": fakehub.LFS_MEDIA}, auth=None)
        href = r.json()["objects"][0]["actions"]["download"]["href"]
        r = self.request("GET", urllib.parse.urlsplit(href).path, auth=None,
                         headers={"Range": "bytes=1000-"})
        self.assertEqual((r.status, r.body), (206, data[1000:]))


class TestApiAuth(HubCase):
    """Appendix A: the API takes Bearer or the m_session_id cookie only."""

    def test_basic_refused_on_api_and_openapi(self):
        o, n = self.new_repo()
        self.assertEqual(self.commit(o, n, [normal("a", b"a")]).status, 200)
        for tok in (TOKEN, "bad"):
            for method, path, body in (
                    ("GET", "/api/v1/models/%s/%s" % (o, n), None),
                    ("GET", "/api/v1/models/%s/%s/repo/files?Revision=master"
                     % (o, n), None),
                    ("POST", "/api/v1/models", {"Path": "alice",
                                                "Name": "viabasic"}),
                    ("POST", "/api/v1/repos/models/%s/%s/commit/master" % (
                        o, n), {"commit_message": "m",
                                "actions": [normal("b", b"b")]}),
                    ("POST", "/api/v1/repos/models/%s/%s/info/lfs/objects/"
                     "batch" % (o, n), {"operation": "upload",
                                        "objects": []}),
                    ("POST", "/api/v1/login", {"AccessToken": TOKEN}),
                    ("GET", "/api/v1/repos/internalAccelerationInfo", None)):
                r = self.request(method, path, body, auth="basic", token=tok)
                self.assertLegacyError(r, 401)
            r = self.request("GET", "/openapi/v1/users/me", auth="basic",
                             token=tok)
            self.assertEqual(r.status, 401)
            self.assertFalse(r.json()["success"])
            r = self.request("GET", "/openapi/v1/models/%s/%s" % (o, n),
                             auth="basic", token=tok)
            self.assertEqual(r.status, 401)
        r = self.request("GET", "/api/v1/models/%s/%s" % (o, n),
                         headers={"Authorization": "Token " + TOKEN},
                         auth=None)
        self.assertLegacyError(r, 401)
        self.assertFalse(os.path.exists(self.gitdir("alice", "viabasic")))
        self.assertEqual(set(self.files(o, n)), {"a"})
        # Basic next to a valid cookie is still refused
        r = self.request("GET", "/api/v1/models/%s/%s" % (o, n), auth="basic",
                         headers={"Cookie": "m_session_id=" + TOKEN})
        self.assertLegacyError(r, 401)

    def test_blob_put_bearer_or_cookie_only(self):
        data = os.urandom(500)
        self.assertLegacyError(self.put_blob(data, auth="basic"), 401)
        self.assertFalse(os.path.exists(os.path.join(
            self.hub.data, "lfs", "objects", sha(data)[:2], sha(data)[2:4],
            sha(data))))
        self.assertEqual(self.put_blob(data, auth="cookie").status, 200)
        self.assertEqual(self.put_blob(data, auth="bearer").status, 200)

    def test_internal_acceleration_info(self):
        for auth in (None, "both"):
            r = self.request("GET", "/api/v1/repos/internalAccelerationInfo",
                             auth=auth)
            self.assertEqual(r.status, 200, r.body)
            j = r.json()
            self.assertEqual((j["Code"], j["Success"]), (200, True))
            self.assertEqual(j["Data"], {"InternalRegionQueryAddress": ""})
        r = self.request("GET", "/api/v1/repos/internalAccelerationInfo",
                         token="bad")
        self.assertLegacyError(r, 401)

    def test_server_header(self):
        r = self.request("GET", "/api/v1/repos/internalAccelerationInfo")
        self.assertEqual(r.header("Server"), "fakehub/1")


class TestDenyTokenDelete(HubCase):
    hub_args = ("--deny-token-delete",)

    def test_delete_endpoint_refused_commit_delete_allowed(self):
        o, n = self.new_repo()
        self.assertEqual(self.commit(o, n, [normal("a", b"a"),
                                            normal("b", b"b")]).status, 200)
        r = self.request("DELETE", "/api/v1/models/%s/%s/file?FilePath=a&"
                         "Revision=master" % (o, n), auth="both")
        self.assertLegacyError(r, 401)
        self.assertIn("no longer supports", r.json()["Message"])
        self.assertEqual(set(self.files(o, n)), {"a", "b"})
        r = self.commit(o, n, [delete("a")])
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(set(self.files(o, n)), {"b"})


class TestCommitSemantics(GitCase):
    def test_identical_recommit_makes_no_commit(self):
        o, n = self.new_repo()
        big = os.urandom(2000)
        self.put_blob(big)
        acts = [normal("a.txt", b"a"), lfs("w.bin", big)]
        c1 = self.commit(o, n, acts).json()["Data"]["oid"]
        r = self.commit(o, n, acts, msg="again")
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["Data"]["oid"], c1)
        gd = self.gitdir(o, n)
        cnt = subprocess.run(["git", "--git-dir=" + gd, "rev-list", "--count",
                              "master"], stdout=subprocess.PIPE)
        self.assertEqual(cnt.stdout.strip(), b"1")
        self.assertTrue([x for x in self.hub.log()
                         if x.get("commit_message") == "again"][-1]
                        .get("unchanged"))
        # an identical commit to a new branch: the branch, no commit
        r = self.commit(o, n, [normal("a.txt", b"a")], rev="same")
        self.assertEqual(r.json()["Data"]["oid"], c1)
        head = subprocess.run(["git", "--git-dir=" + gd, "rev-parse",
                               "refs/heads/same"], stdout=subprocess.PIPE)
        self.assertEqual(head.stdout.decode().strip(), c1)
        # a real change still commits
        c2 = self.commit(o, n, [normal("a.txt", b"b")]).json()["Data"]["oid"]
        self.assertNotEqual(c2, c1)

    def check_attr(self, o, n, paths):
        dest = os.path.join(self.tmp, "attr-%s-%s" % (n, os.urandom(2).hex()))
        self.clone("%s/%s/%s.git" % (self.hub.url, o, n), dest)
        p = self.git("check-attr", "filter", "--", *paths, cwd=dest)
        return {ln.rsplit(": ", 2)[0]: ln.rsplit(": ", 1)[1]
                for ln in p.stdout.decode().splitlines()}, dest

    def test_gitattributes_delete_keeps_lfs_lines(self):
        o, n = self.new_repo()
        b1, b2 = os.urandom(1500), os.urandom(1600)
        self.put_blob(b1)
        self.put_blob(b2)
        self.assertEqual(self.commit(o, n, [
            lfs("w.bin", b1), lfs("sub/x y.bin", b2),
            normal("keep.txt", b"k")]).status, 200)
        r = self.commit(o, n, [delete(".gitattributes")])
        self.assertEqual(r.status, 200, r.body)
        attrs, dest = self.check_attr(o, n, ["w.bin", "sub/x y.bin",
                                             "keep.txt"])
        self.assertEqual(attrs, {"w.bin": "lfs", "sub/x y.bin": "lfs",
                                 "keep.txt": "unspecified"})
        with open(os.path.join(dest, "w.bin"), "rb") as f:
            self.assertEqual(f.read(), b1)
        # a user .gitattributes replacing the hub's keeps the lfs lines
        r = self.commit(o, n, [normal(".gitattributes", b"*.txt text\n")])
        self.assertEqual(r.status, 200, r.body)
        ga = self.request("GET", "/api/v1/models/%s/%s/repo?Revision=master"
                          "&FilePath=.gitattributes" % (o, n)).body.decode()
        self.assertTrue(ga.startswith("*.txt text\n"), ga)
        attrs, _ = self.check_attr(o, n, ["w.bin", "sub/x y.bin"])
        self.assertEqual(set(attrs.values()), {"lfs"})
        # deleting it with the last lfs files leaves no .gitattributes
        r = self.commit(o, n, [delete(".gitattributes"), delete("w.bin"),
                               delete("sub/x y.bin")])
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(set(self.files(o, n)), {"keep.txt"})

    def test_verify_reports_pointer_without_lfs_filter(self):
        """A repo (made by a push) with a pointer but no .gitattributes:
        verify.sh must report it even when the bytes compare equal."""
        o, n = self.new_repo()
        data = os.urandom(2500)
        self.assertEqual(self.put_blob(data).status, 200)
        ptr = fakehub.make_pointer(sha(data), len(data))
        work = os.path.join(self.tmp, "noattr-" + n)
        self.git("init", "-q", work)
        write_tree(work, {"w.bin": ptr, "a.txt": b"a\n"})
        self.git("add", "-A", cwd=work)
        self.git("commit", "-q", "-m", "pointer, no attributes", cwd=work)
        self.git_c("push", "-q", "%s/%s/%s.git" % (self.hub.url, o, n),
                   "master", cwd=work)
        env = dict(self.env)
        env.pop("MODELSCOPE_API_TOKEN", None)
        for content in (data, ptr):
            folder = os.path.join(self.tmp, "noattr-folder-%s-%d" % (
                n, len(content)))
            write_tree(folder, {"w.bin": content, "a.txt": b"a\n"})
            p = subprocess.run(["bash", VERIFY, self.hub.url, o + "/" + n,
                                folder], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
            out = p.stdout.decode()
            self.assertEqual(p.returncode, 1, out + p.stderr.decode())
            self.assertIn("not lfs-tracked: w.bin", out)
            self.assertNotIn("a.txt", out)
        # with the attributes line it is clean
        write_tree(work, {".gitattributes":
                          b"/w.bin filter=lfs diff=lfs merge=lfs -text\n"})
        self.git("add", "-A", cwd=work)
        self.git("commit", "-q", "-m", "attributes", cwd=work)
        self.git_c("push", "-q", "%s/%s/%s.git" % (self.hub.url, o, n),
                   "master", cwd=work)
        folder = os.path.join(self.tmp, "noattr-folder-%s-%d" % (n,
                                                                 len(data)))
        p = subprocess.run(["bash", VERIFY, self.hub.url, o + "/" + n,
                            folder], env=env, stdout=subprocess.PIPE)
        self.assertEqual((p.returncode, p.stdout.decode().strip()),
                         (0, "2 files identical"))


# ------------------------------------------------- official SDK (optional)

SDK_SRC = os.environ.get("FAKEHUB_SDK_SRC")  # .../modelscope_hub/src
SDK_PYTHON = os.environ.get("FAKEHUB_SDK_PYTHON", "/usr/bin/python3")
SDK_SCRIPT = r"""
import os, sys
sys.path.insert(0, os.environ["FAKEHUB_SDK_SRC"])
from modelscope_hub import HubApi
api = HubApi(endpoint=os.environ["HUB_URL"], token=os.environ["TOK"])
res = api.upload_folder(sys.argv[2], "model", sys.argv[1], disable_tqdm=True)
print("RESULT-OID", res["oid"])
"""


def sdk_usable():
    if not SDK_SRC or not os.path.isdir(os.path.join(SDK_SRC,
                                                     "modelscope_hub")):
        return False
    p = subprocess.run([SDK_PYTHON, "-c", "import requests, tqdm, filelock"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p.returncode == 0


@unittest.skipUnless(sdk_usable(), "set FAKEHUB_SDK_SRC to modelscope_hub's "
                     "src/ (and have requests, tqdm, filelock) to run")
class TestOfficialSDK(GitCase):
    """Fidelity: the official SDK's upload_folder against the fake hub,
    then verify.sh (stock git + git-lfs) must see identical files."""

    def test_upload_folder_then_verify(self):
        folder = os.path.join(self.tmp, "sdk-model")
        files = {"config.json": b'{"architectures": ["Demo"]}\n',
                 "model.safetensors": os.urandom(30 << 20),
                 "sub/nested/notes.txt": b"nested\n",
                 "说明 文件.md": "你好\n".encode()}
        write_tree(folder, files)
        env = dict(self.env, HUB_URL=self.hub.url, TOK=TOKEN,
                   FAKEHUB_SDK_SRC=SDK_SRC,
                   MODELSCOPE_HOME=os.path.join(self.tmp, "mshome"))
        p = subprocess.run([SDK_PYTHON, "-c", SDK_SCRIPT, folder,
                            "alice/sdk-demo"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr.decode()[-2000:])
        oid = p.stdout.decode().split("RESULT-OID")[1].split()[0]
        gd = self.gitdir("alice", "sdk-demo")
        head = subprocess.run(["git", "--git-dir=" + gd, "rev-parse",
                               "master"], stdout=subprocess.PIPE)
        self.assertEqual(head.stdout.decode().strip(), oid)
        commits = [r for r in self.hub.log() if r.get("actions")]
        self.assertEqual(len(commits), 1)
        kinds = {a["path"]: a["type"] for a in commits[0]["actions"]}
        self.assertEqual(kinds["model.safetensors"], "lfs")
        self.assertEqual(kinds["config.json"], "normal")
        e = dict(self.env, MODELSCOPE_API_TOKEN=TOKEN)
        p = subprocess.run(["bash", VERIFY, self.hub.url, "alice/sdk-demo",
                            folder], env=e, stdout=subprocess.PIPE)
        self.assertEqual(p.stdout.decode().strip(), "4 files identical")


SDK_DOWNLOAD = r"""
import hashlib, os, sys
sys.path.insert(0, os.environ["FAKEHUB_SDK_SRC"])
from modelscope_hub import HubApi
api = HubApi(endpoint=os.environ["HUB_URL"], token=os.environ["TOK"])
d = api.download_repo(sys.argv[1], "model", local_dir=sys.argv[2])
print("RESULT-DIR", d)
"""


@unittest.skipUnless(sdk_usable(), "set FAKEHUB_SDK_SRC to modelscope_hub's "
                     "src/ (and have requests, tqdm, filelock) to run")
class TestOfficialSDKDownload(HubCase):
    """The SDK's parallel range downloader (8 MiB parts, 4 threads) must
    reassemble an lfs file exactly (needs 206 + Content-Range)."""

    def test_parallel_download_repo(self):
        o, n = self.new_repo()
        big = os.urandom((20 << 20) + 12345)
        self.assertEqual(self.put_blob(big).status, 200)
        self.assertEqual(self.commit(o, n, [lfs("model.safetensors", big),
                                            normal("config.json", b"{}\n")]
                                     ).status, 200)
        dest = os.path.join(self.tmp, "sdk-dl-" + n)
        env = dict(self.env, HUB_URL=self.hub.url, TOK=TOKEN,
                   FAKEHUB_SDK_SRC=SDK_SRC,
                   MODELSCOPE_HOME=os.path.join(self.tmp, "mshome-dl"),
                   MODELSCOPE_DOWNLOAD_PARALLEL_THRESHOLD_MB="1",
                   MODELSCOPE_DOWNLOAD_PARALLEL_WORKERS="4",
                   MODELSCOPE_DOWNLOAD_PART_SIZE_MB="8")
        p = subprocess.run([SDK_PYTHON, "-c", SDK_DOWNLOAD, o + "/" + n,
                            dest], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr.decode()[-2000:])
        d = p.stdout.decode().split("RESULT-DIR")[1].strip()
        with open(os.path.join(d, "model.safetensors"), "rb") as f:
            self.assertEqual(sha(f.read()), sha(big))
        ranged = [r for r in self.hub.log() if r["status"] == 206]
        self.assertGreaterEqual(len(ranged), 3)


class TestHubSh(unittest.TestCase):
    def test_start_stop(self):
        tmp = tempfile.mkdtemp(prefix="fakehub-test-")
        try:
            script = r'''
set -e
. "$1"
trap 'hub_stop' EXIT
hub_start "$2/data dir" tok --user bob
echo "url=$HUB_URL pid=$HUB_PID log=$HUB_LOG"
python3 - <<PY
import json, urllib.request
r = urllib.request.Request("$HUB_URL/openapi/v1/users/me",
                           headers={"Authorization": "Bearer tok"})
print("user=" + json.load(urllib.request.urlopen(r))["data"]["username"])
PY
pid=$HUB_PID
hub_stop
hub_stop
kill -0 $pid 2>/dev/null && echo still-running || echo stopped
test -s "$HUB_LOG" && echo logged
'''
            p = subprocess.run(["bash", "-c", script, "x", HUBSH, tmp],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=60)
            out = p.stdout.decode()
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertRegex(out, r"url=http://127\.0\.0\.1:\d+ pid=\d+")
            self.assertIn("user=bob", out)
            self.assertIn("stopped", out)
            self.assertIn("logged", out)
            p = subprocess.run(["bash", "-c", '. "$1"; hub_start "$2/d" t '
                                '--fault bogus', "x", HUBSH, tmp],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=60)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn(b"did not start", p.stderr)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
