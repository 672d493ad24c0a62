# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A real HTTP(S) server on loopback that misbehaves on purpose, for the transport guarantees of _http.py.

FaultServer binds 127.0.0.1 on an ephemeral port (or serves TLS with a self-signed, untrusted certificate) and
answers each request from a script: per path (query string ignored), a list of actions consumed in order, the
last one repeating; ``default`` answers paths without a script. It records every request it receives, so a
second FaultServer standing in for a sign-on portal shows whether credentials reached it.

Actions (tuples):
- ("json", status, value)                a JSON body
- ("raw", status, bytes, content_type)   any body (malformed JSON, an HTML page)
- ("redirect", status, location)         a Location header (absolute or relative)
- ("echo", status)                       the request's headers and body, as text (a server that echoes auth)
- ("slow", seconds, action)              wait, then answer with ``action``
- ("reset",)                             close the connection with a TCP reset, no answer
- ("close",)                             close the connection cleanly, no answer
Standard library only, plus ``cryptography`` (an ansible-core dependency) for the test certificate.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os
import socket
import ssl
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


def self_signed_cert(directory, host="127.0.0.1"):
    """(certfile, keyfile) of a fresh self-signed certificate for ``host`` that no trust store knows."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u"monsterr fault server")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
            .sign(key, hashes.SHA256()))
    certfile, keyfile = os.path.join(directory, "fault.crt"), os.path.join(directory, "fault.key")
    with open(certfile, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(keyfile, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return certfile, keyfile


class FaultServer(object):
    def __init__(self, tls=None):
        """``tls``: (certfile, keyfile) to serve HTTPS."""
        self.script = {}
        self.default = ("json", 404, {"message": "NotFound"})
        self.seen = []            # (method, path with query, headers dict, body bytes)
        self.handshakes = 0       # TCP connections accepted (TLS: before the handshake)
        self.lock = threading.Lock()
        self.tls = tls
        self._httpd = None

    # -- scripting --------------------------------------------------------------------------------------------

    def on(self, path, *actions):
        self.script[path] = list(actions)
        return self

    def _next(self, path):
        with self.lock:
            queue = self.script.get(path)
            if not queue:
                return self.default
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def requests_to(self, path):
        return [s for s in self.seen if urlsplit(s[1]).path == path]

    def received(self):
        """Everything the server received, as one text (to look for credentials in)."""
        parts = []
        for method, path, headers, body in self.seen:
            parts.append("%s %s\n%s\n%s" % (method, path, "\n".join("%s: %s" % kv for kv in headers.items()),
                                             body.decode("utf-8", "replace")))
        return "\n\n".join(parts)

    # -- lifecycle --------------------------------------------------------------------------------------------

    def start(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with server.lock:
                    server.seen.append((self.command, self.path, dict(self.headers), body))
                action = server._next(urlsplit(self.path).path)
                self._act(action, body)

            def _act(self, action, body):
                kind = action[0]
                if kind == "slow":
                    time.sleep(action[1])
                    return self._act(action[2], body)
                if kind == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    return self.connection.close()
                if kind == "close":
                    self.close_connection = True
                    return None
                headers = {}
                if kind == "json":
                    status, payload, ctype = action[1], json.dumps(action[2]).encode(), "application/json"
                elif kind == "raw":
                    status, payload, ctype = action[1], action[2], action[3]
                elif kind == "redirect":
                    status, payload, ctype = action[1], b"", "text/plain"
                    headers["Location"] = action[2]
                elif kind == "echo":
                    # the credentials first, as an error page saying which ones it got would show them
                    items = sorted(self.headers.items(), key=lambda kv: kv[0].lower() not in ("authorization", "x-api-key"))
                    echoed = "".join("%s: %s\n" % kv for kv in items) + body.decode("utf-8", "replace")
                    status, payload, ctype = action[1], echoed.encode(), "text/plain"
                else:
                    raise ValueError(kind)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return None

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _answer

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self):
                sock, address = super(Server, self).get_request()
                with server.lock:
                    server.handshakes += 1
                if server.tls:
                    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                    context.load_cert_chain(*server.tls)
                    sock = context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
                return sock, address

            def handle_error(self, request, client_address):
                pass  # a refused handshake or a reset is the point of some tests

        self._httpd = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self):
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()

    @property
    def port(self):
        return self._httpd.server_address[1]

    @property
    def origin(self):
        return "%s://127.0.0.1:%d" % ("https" if self.tls else "http", self.port)

    @property
    def hostport(self):
        return "127.0.0.1:%d" % self.port
