#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A foreign object store for the http tests: stores PUT /objects/<oid>
under DIR/objects/ (streamed, then renamed) and appends one JSON line per
request to DIR/headers.jsonl with every request header, so a test can
prove which credentials reached a host that is not the endpoint's
(protocol doc 9.3).  Prints its URL first on stdout.

    putrecorder.py DIR
"""
import http.server
import json
import os
import re
import sys
import tempfile

DIR = sys.argv[1]
os.makedirs(os.path.join(DIR, "objects"), exist_ok=True)
LOG = open(os.path.join(DIR, "headers.jsonl"), "a", buffering=1)


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_PUT(self):
        m = re.match(r"^/objects/([0-9a-f]{64})$", self.path)
        n = int(self.headers.get("Content-Length") or -1)
        LOG.write(json.dumps({"path": self.path,
                              "headers": dict(self.headers.items())}) + "\n")
        if not m or n < 0:
            self.send_response(400)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        fd, tmp = tempfile.mkstemp(dir=os.path.join(DIR, "objects"))
        with os.fdopen(fd, "wb") as f:
            left = n
            while left > 0:
                b = self.rfile.read(min(left, 1 << 20))
                if not b:
                    break
                f.write(b)
                left -= len(b)
        os.replace(tmp, os.path.join(DIR, "objects", m.group(1)))
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print("http://127.0.0.1:%d" % srv.server_address[1], flush=True)
srv.serve_forever()
