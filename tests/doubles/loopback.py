# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A loopback HTTP server for the Bazarr and Overseerr test doubles: routing, counters, JSON/form bodies.

Standard library only. A double subclasses LoopbackDouble and implements handle(method, path, query, headers,
body) -> (status, payload); payload is a dict/list (sent as JSON), bytes/str (sent as text) or None (no body).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class LoopbackDouble(object):
    app = "double"

    def __init__(self):
        self.lock = threading.Lock()
        self.log = []
        self._httpd = None
        self._thread = None

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self, host="127.0.0.1", port=0):
        """Serve on ``host``:``port`` (default: a free loopback port) in a background thread."""
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stall

            def log_message(self, *args):
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                query = parse_qs(parts.query, keep_blank_values=True)
                with double.lock:
                    double.log.append((self.command, parts.path))
                    status, payload = double.handle(self.command, parts.path, query, self.headers, raw)
                if payload is None:
                    data, ctype = b"", None
                elif isinstance(payload, (dict, list)):
                    data, ctype = json.dumps(payload).encode(), "application/json; charset=utf-8"
                else:
                    data = payload.encode() if isinstance(payload, str) else payload
                    ctype = "text/plain; charset=utf-8"
                self.send_response(status)
                if ctype:
                    self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self._httpd.server_address[1]

    # -- counters ---------------------------------------------------------------------------------------

    def reset(self):
        with self.lock:
            self.log = []

    def stats(self):
        with self.lock:
            by_method = Counter(m for m, _p in self.log)
            return {"total": len(self.log), "by_method": dict(by_method),
                    "writes": sum(1 for m, p in self.log if self.is_write(m, p)),
                    "requests": list(self.log)}

    def is_write(self, method, path):
        """Requests that change state (a double overrides this for POSTs that only read)."""
        return method in ("POST", "PUT", "DELETE")

    # -- helpers for subclasses ------------------------------------------------------------------------------

    @staticmethod
    def json_body(raw):
        try:
            return json.loads(raw.decode("utf-8")) if raw else None
        except ValueError:
            return None

    @staticmethod
    def form_body(raw):
        return parse_qs(raw.decode("utf-8"), keep_blank_values=True)

    def handle(self, method, path, query, headers, raw):
        raise NotImplementedError
