#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A tripwire "hub" for tests that must make no connection: listens on a
free 127.0.0.1 port, writes the port to PORT_FILE, and appends one line to
LOG_FILE for every connection it accepts (then closes it).  Runs until
killed.

    tripwire.py PORT_FILE LOG_FILE
"""
import socket
import sys

s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
with open(sys.argv[1], "w") as f:
    f.write(str(s.getsockname()[1]))
while True:
    c, _ = s.accept()
    with open(sys.argv[2], "a") as log:
        log.write("connection\n")
    c.close()
