# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The demo's package cache: an HTTP proxy for apt on the Docker host, so that the demo's
containers download each Debian package from the mirror once between them (scripts/demo.sh
starts it and points each container's apt at it; the roles know nothing of it).

Only files that never change under their name are kept: packages (``/pool/``) and the index
files apt fetches by their digest (``/by-hash/``). Everything else (InRelease, Release) goes
to the mirror every time. apt checks every file it gets against the signed InRelease, so the
cache cannot change what the containers install.

Safe with concurrent apt runs: one download per file at a time (the others wait for it and
are served from the cache), and a file enters the cache complete, by an atomic rename. Only
the mirrors given with --mirror are proxied (it is no open proxy); it listens on the
addresses given with --listen (the demo network's gateway), never on every interface.

Usage: apt_cache.py --dir DIR --listen ADDRESS [--listen ADDRESS...] --port PORT
                    --mirror HOST [--mirror HOST...] [--port-file FILE]
Standard library only.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import shutil
import socket
import sys
import tempfile
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHUNK = 1 << 16
TIMEOUT = 60
# Request headers passed on to the mirror for what is not cached (conditional requests).
FORWARDED = ("If-Modified-Since", "If-None-Match", "Range", "If-Range", "Accept", "User-Agent")
# Response headers passed back.
RETURNED = ("Content-Type", "Last-Modified", "ETag", "Content-Range", "Accept-Ranges", "Date")


def cacheable(path):
    """Files that never change under their name: packages and index files named by their digest."""
    return "/pool/" in path or "/by-hash/" in path


def cache_path(root, host, path):
    """Where a file of the mirror is kept, or None for a path that could leave the cache."""
    parts = [part for part in path.split("/") if part]
    if not parts or any(part in (".", "..") or "\0" in part for part in parts):
        return None
    return os.path.join(root, host, *parts)


class Downloads:
    """One lock per file being fetched: the first request downloads, the others wait."""

    def __init__(self):
        self._guard = threading.Lock()
        self._locks = {}

    def lock(self, key):
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "groundwork-demo-apt-cache"

    def log_message(self, format, *args):
        if self.server.verbose:
            super().log_message(format, *args)

    def target(self):
        """(host, port, path) of the mirror's file, or None (refused)."""
        url = urllib.parse.urlsplit(self.path)
        if url.scheme != "http" or not url.hostname:
            return None
        if url.hostname.lower() not in self.server.mirrors:
            return None
        return url.hostname.lower(), url.port or 80, url.path + (f"?{url.query}" if url.query else "")

    def do_GET(self):
        self.answer(body=True)

    def do_HEAD(self):
        self.answer(body=False)

    def answer(self, body):
        target = self.target()
        if target is None:
            self.fail(403, "only the Debian mirrors of the demo are proxied")
            return
        host, port, path = target
        local = cache_path(self.server.root, host, path.split("?", 1)[0]) if cacheable(path) else None
        try:
            if local is None:
                self.relay(host, port, path, body)
                return
            if not os.path.isfile(local):
                with self.server.downloads.lock(local):
                    if not os.path.isfile(local):
                        status = self.fetch(host, port, path, local)
                        if status != 200:
                            self.fail(status, "the mirror did not deliver the file")
                            return
            self.send_file(local, body)
        except (OSError, http.client.HTTPException) as exc:
            if not self.wfile.closed:
                with contextlib.suppress(OSError):
                    self.fail(502, f"the mirror could not be reached: {exc}")

    def upstream(self, host, port, path, headers):
        connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
        connection.request("GET", path, headers={"Host": host, **headers})
        return connection, connection.getresponse()

    def fetch(self, host, port, path, local):
        """Download a file into the cache (complete, or not at all); the mirror's status."""
        connection, response = self.upstream(host, port, path, {})
        try:
            if response.status != 200:
                response.read()
                return response.status
            os.makedirs(os.path.dirname(local), exist_ok=True)
            handle, partial = tempfile.mkstemp(dir=os.path.dirname(local), prefix=".partial-")
            try:
                with os.fdopen(handle, "wb") as out:
                    shutil.copyfileobj(response, out, CHUNK)
                length = response.getheader("Content-Length")
                if length is not None and os.path.getsize(partial) != int(length):
                    raise OSError("the download ended early")
                os.chmod(partial, 0o644)
                os.replace(partial, local)
            finally:
                if os.path.exists(partial):
                    os.unlink(partial)
            return 200
        finally:
            connection.close()

    def relay(self, host, port, path, body):
        """A file that is not cached: the mirror's answer as it is."""
        headers = {name: self.headers[name] for name in FORWARDED if self.headers.get(name)}
        connection, response = self.upstream(host, port, path, headers)
        try:
            data = response.read()
            self.send_response(response.status)
            for name in RETURNED:
                if response.getheader(name):
                    self.send_header(name, response.getheader(name))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if body and response.status not in (204, 304):
                self.wfile.write(data)
        finally:
            connection.close()

    def send_file(self, local, body):
        size = os.path.getsize(local)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        if body:
            with open(local, "rb") as handle:
                shutil.copyfileobj(handle, self.wfile, CHUNK)

    def fail(self, status, text):
        data = (text + "\n").encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, root, mirrors, downloads, verbose=False):
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.address_family = family
        super().__init__(address, Handler)
        self.root = root
        self.mirrors = mirrors
        self.downloads = downloads
        self.verbose = verbose


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--dir", required=True, help="where the packages are kept")
    parser.add_argument("--listen", action="append", required=True, help="an address to listen on")
    parser.add_argument("--port", type=int, default=0, help="the port (0: any free one)")
    parser.add_argument("--mirror", action="append", required=True, help="a mirror host name to proxy")
    parser.add_argument("--port-file", help="write the port listened on to this file once ready")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    os.makedirs(args.dir, exist_ok=True)
    mirrors = {name.lower() for name in args.mirror}
    downloads = Downloads()
    port = args.port
    servers = []
    for address in args.listen:
        server = Server((address, port), args.dir, mirrors, downloads, args.verbose)
        port = server.server_address[1]
        servers.append(server)
    for server in servers[1:]:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    if args.port_file:
        with open(args.port_file + ".new", "w", encoding="ascii") as handle:
            handle.write(f"{port}\n")
        os.replace(args.port_file + ".new", args.port_file)
    try:
        servers[0].serve_forever()
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
