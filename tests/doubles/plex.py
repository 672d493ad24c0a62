#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stand-in for Plex Media Server as lscr.io/linuxserver/plex runs it, standard library only. Plex is not in
Debian and no registry can be reached here: the ``plex`` test image (tests/images/plex) runs this file as the
``abc`` user (PUID:PGID) after its linuxserver-like init (tests/images/plex/init).

Upstream facts reproduced (linuxserver/docker-plex: Dockerfile, root/etc/s6-overlay/s6-rc.d/init-plex-chown/run,
init-plex-claim/run, svc-plex/run; Plex's documented local API):

- The server keeps its state under ``$PLEX_MEDIA_SERVER_APPLICATION_SUPPORT_DIR/Plex Media Server``
  (``/config/Library/Application Support``): on the first start it writes ``Preferences.xml`` with
  ``MachineIdentifier``, ``ProcessedMachineIdentifier`` and ``AnonymousMachineIdentifier`` and creates its SQLite
  library ``Plug-in Support/Databases/com.plexapp.plugins.library.db``; later starts keep them.
- Listens on port 32400 on every address (IPv4 and IPv6).
- ``GET /identity`` needs no token and answers the XML ``<MediaContainer size="0" claimed="0|1"
  machineIdentifier="..." version="...">``; claimed is 1 once Preferences.xml holds a ``PlexOnlineToken``.
- Every other path needs ``X-Plex-Token`` (header or query) equal to that token: 401 otherwise.

Shortcuts (documented, deliberate): no libraries, transcoding, GDM discovery or plex.tv sign-in; the version string
is the double's (1.42.2 line).

Run: ``python3 tests/doubles/plex.py`` (PLEX_MEDIA_SERVER_APPLICATION_SUPPORT_DIR as in the image).
"""

from __future__ import absolute_import, division, print_function

import hashlib
import os
import signal
import socket
import sqlite3
import sys
import threading
import uuid
import xml.etree.ElementTree as ElementTree
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

VERSION = "1.42.2.0-double"


def server_dir(environ):
    return os.path.join(environ.get("PLEX_MEDIA_SERVER_APPLICATION_SUPPORT_DIR", "/config/Library/Application Support"),
                        "Plex Media Server")


def load_preferences(base):
    """Preferences.xml's attributes; written with fresh identifiers on the first start, as PMS does."""
    path = os.path.join(base, "Preferences.xml")
    if os.path.exists(path):
        return dict(ElementTree.parse(path).getroot().attrib)
    os.makedirs(base, exist_ok=True)
    machine = str(uuid.uuid4())
    prefs = {"MachineIdentifier": machine, "ProcessedMachineIdentifier": hashlib.sha1(machine.encode()).hexdigest(),
             "AnonymousMachineIdentifier": str(uuid.uuid4()), "FriendlyName": socket.gethostname(),
             "AcceptedEULA": "1", "PublishServerOnPlexOnlineKey": "0"}
    root = ElementTree.Element("Preferences", prefs)
    ElementTree.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    databases = os.path.join(base, "Plug-in Support", "Databases")
    os.makedirs(databases, exist_ok=True)
    db = sqlite3.connect(os.path.join(databases, "com.plexapp.plugins.library.db"))
    db.execute("CREATE TABLE IF NOT EXISTS library_sections (id INTEGER PRIMARY KEY, name TEXT)")
    db.commit()
    db.close()
    return prefs


def make_handler(prefs):
    token = prefs.get("PlexOnlineToken", "")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _send(self, status, body, content_type="text/xml;charset=utf-8"):
            raw = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(raw)))
            self.send_header("X-Plex-Protocol", "1.0")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(raw)

        def do_GET(self):
            parts = urlsplit(self.path)
            if parts.path == "/identity":
                self._send(200, '<?xml version="1.0" encoding="UTF-8"?>\n<MediaContainer size="0" apiVersion="1.1.1" '
                                'claimed="%d" machineIdentifier="%s" version="%s">\n</MediaContainer>\n'
                           % (1 if token else 0, prefs["ProcessedMachineIdentifier"], VERSION))
                return
            given = self.headers.get("X-Plex-Token") or (parse_qs(parts.query).get("X-Plex-Token") or [""])[0]
            if not token or given != token:
                self._send(401, "<html><head><title>Unauthorized</title></head><body><h1>401 Unauthorized</h1>"
                                "</body></html>", "text/html")
                return
            self._send(200, '<?xml version="1.0" encoding="UTF-8"?>\n<MediaContainer size="0" friendlyName="%s" '
                            'machineIdentifier="%s" version="%s">\n</MediaContainer>\n'
                       % (prefs.get("FriendlyName", ""), prefs["ProcessedMachineIdentifier"], VERSION))

        do_HEAD = do_GET

    return Handler


class DualStackServer(ThreadingHTTPServer):
    """PMS listens on 0.0.0.0 and [::]: one dual-stack socket here (0.0.0.0 alone without kernel IPv6)."""
    daemon_threads = True
    address_family = socket.AF_INET6

    def __init__(self, port, handler):
        try:
            ThreadingHTTPServer.__init__(self, ("::", port), handler)
        except OSError:
            self.address_family = socket.AF_INET
            ThreadingHTTPServer.__init__(self, ("0.0.0.0", port), handler)

    def server_bind(self):
        if self.address_family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        ThreadingHTTPServer.server_bind(self)


def main(environ=None):
    environ = dict(os.environ if environ is None else environ)
    try:
        prefs = load_preferences(server_dir(environ))
        server = DualStackServer(int(environ.get("PLEX_DOUBLE_PORT", "32400")), make_handler(prefs))
    except (OSError, ElementTree.ParseError, sqlite3.Error) as exc:
        sys.stderr.write("Plex Media Server: %s\n" % exc)
        return 1
    sys.stdout.write("Plex Media Server (double %s) listening on 32400, machine %s\n"
                     % (VERSION, prefs["ProcessedMachineIdentifier"]))
    sys.stdout.flush()

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
