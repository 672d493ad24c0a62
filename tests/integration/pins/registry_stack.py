# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A real registry on loopback for the pin checker's tests: Debian's docker-registry (Distribution 2.8) with token auth.

The registry refuses every request without a bearer token signed by the test's own key
(``auth: token`` with the test's certificate as ``rootcertbundle``), as Docker Hub, ghcr.io and lscr.io
do. Its 401 names the test's token endpoint as realm; that endpoint hands out anonymous pull tokens
(and push tokens to the test's own pusher) and records every request, so a test can prove the checker
fetched one. A second front door refuses HEAD (405) and forwards GETs, for the checker's GET fallback.

Images are written through the registry's HTTP API (blob uploads, manifests, indexes): no docker needed.
"""

import base64
import contextlib
import datetime
import gzip
import hashlib
import importlib.util
import io
import json
import os
import re
import socket
import subprocess
import sys
import tarfile
import threading
import time
import types
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
CHECKER = os.path.join(ROOT, "scripts", "check-pins.py")
SERVICE = "monsterr-test-registry"
ISSUER = "monsterr-test-token-issuer"
PUSHER = ("pusher", "pusher-password")
PUSHER_BASIC = "Basic " + base64.b64encode(":".join(PUSHER).encode()).decode()

DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class TokenIssuer:
    """Signs registry tokens (RS256, x5c header) with a throwaway key and self-signed certificate."""

    def __init__(self, directory):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding, rsa
        from cryptography.x509.oid import NameOID

        self._padding, self._hashes = padding, hashes
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
        now = datetime.datetime.now(datetime.UTC)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(self.key, hashes.SHA256()))
        self.cert_path = os.path.join(directory, "token-signer.pem")
        with open(self.cert_path, "wb") as handle:
            handle.write(cert.public_bytes(serialization.Encoding.PEM))
        self.x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii")

    def token(self, subject, access):
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        claims = {"iss": ISSUER, "sub": subject, "aud": SERVICE, "exp": now + 600, "nbf": now - 30, "iat": now,
                  "jti": uuid.uuid4().hex, "access": access}
        signing_input = (_b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(claims).encode())).encode()
        signature = self.key.sign(signing_input, self._padding.PKCS1v15(), self._hashes.SHA256())
        return signing_input.decode() + "." + _b64url(signature)


class _Server:
    """A ThreadingHTTPServer on an ephemeral loopback port, in a daemon thread."""

    def __init__(self, handler):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def token_server(issuer):
    """The realm: GET /token?service=...&scope=repository:<name>:<actions> -> {"token": ...}.

    Anonymous callers get pull only (as on Docker Hub, ghcr.io); the test's pusher, with Basic auth, gets
    what it asks for. Every request is recorded in server.requests as {anonymous, service, scopes}.
    """
    requests = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            url = urllib.parse.urlparse(self.path)
            query = urllib.parse.parse_qs(url.query)
            authorization = self.headers.get("Authorization") or ""
            anonymous = authorization == ""
            scopes = query.get("scope", [])
            with lock:
                requests.append({"anonymous": anonymous, "service": (query.get("service") or [None])[0],
                                 "scopes": scopes, "path": url.path})
            if url.path != "/token" or query.get("service") != [SERVICE]:
                return self._answer(400, {"errors": [{"code": "INVALID_REQUEST", "message": "wrong service"}]})
            if not anonymous and authorization != PUSHER_BASIC:
                return self._answer(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]})
            access = []
            for scope in scopes:
                kind, name, actions = scope.split(":")
                wanted = actions.split(",")
                granted = wanted if not anonymous else [a for a in wanted if a == "pull"]
                access.append({"type": kind, "name": name, "actions": granted})
            subject = "" if anonymous else PUSHER[0]
            self._answer(200, {"token": issuer.token(subject, access), "expires_in": 600})

        def _answer(self, status, document):
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = _Server(Handler)
    server.requests = requests
    return server


def front_door(upstream, refuse_head=False, paginate=False):
    """A reverse proxy in front of the registry, for two behaviours real registries show and Distribution 2.8 does not.

    refuse_head: HEAD answers 405 (the checker must fall back to GET).
    paginate: tags/list honours ?n=&last= as the OCI distribution spec describes and as ghcr.io and Docker
    Hub do (tags in lexical order after `last`, at most n, a Link: <...>; rel="next" header while more
    remain); Distribution 2.8 itself returns every tag at once. Records each tags/list URL it served.
    """
    pages = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_HEAD(self):
            if refuse_head:
                self.send_response(405)
                self.send_header("Allow", "GET")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self._forward("HEAD")

        def do_GET(self):
            self._forward("GET")

        def _forward(self, method):
            url = urllib.parse.urlparse(self.path)
            query = urllib.parse.parse_qs(url.query)
            listing = paginate and url.path.endswith("/tags/list")
            headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "accept")}
            target = upstream + (url.path if listing else self.path)
            try:
                reply = urllib.request.urlopen(urllib.request.Request(target, method=method, headers=headers),
                                               timeout=10)
            except urllib.error.HTTPError as exc:
                reply = exc
            status = getattr(reply, "status", None) or reply.code
            body = reply.read() if method == "GET" else b""
            extra = {}
            if listing and status == 200:
                pages.append(self.path)
                document = json.loads(body)
                tags = sorted(document.get("tags") or [])
                last = (query.get("last") or [""])[0]
                size = int((query.get("n") or ["100"])[0])
                remaining = [t for t in tags if t > last] if last else tags
                document["tags"], more = remaining[:size], len(remaining) > size
                body = json.dumps(document).encode()
                if more:
                    extra["Link"] = '<{}?{}>; rel="next"'.format(url.path, urllib.parse.urlencode(
                        {"n": size, "last": document["tags"][-1]}))
            self.send_response(status)
            for name in ("Content-Type", "Docker-Content-Digest", "WWW-Authenticate",
                         "Docker-Distribution-Api-Version"):
                if reply.headers.get(name):
                    self.send_header(name, reply.headers[name])
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body) if method == "GET" else
                                                   reply.headers.get("Content-Length") or 0))
            self.end_headers()
            if method == "GET":
                self.wfile.write(body)

    server = _Server(Handler)
    server.pages = pages
    return server


class Pusher:
    """Writes images into the registry through its HTTP API, as `docker push` does."""

    def __init__(self, registry_url, realm):
        self.registry, self.realm = registry_url, realm
        self.tokens, self.uploaded = {}, {}

    def _token(self, repository):
        if repository not in self.tokens:
            query = urllib.parse.urlencode({"service": SERVICE, "scope": f"repository:{repository}:pull,push"})
            request = urllib.request.Request(self.realm + "?" + query, headers={"Authorization": PUSHER_BASIC})
            with urllib.request.urlopen(request, timeout=10) as reply:
                self.tokens[repository] = json.load(reply)["token"]
        return self.tokens[repository]

    def _call(self, method, url, repository, data=None, headers=None):
        headers = dict(headers or {}, Authorization="Bearer " + self._token(repository))
        request = urllib.request.Request(url if url.startswith("http") else self.registry + url, data=data,
                                         method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, reply.headers, reply.read()

    def blob(self, repository, data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        _, headers, _ = self._call("POST", f"/v2/{repository}/blobs/uploads/", repository, data=b"")
        location = urllib.parse.urljoin(self.registry + "/", headers["Location"])
        location += ("&" if "?" in location else "?") + urllib.parse.urlencode({"digest": digest})
        status, _, _ = self._call("PUT", location, repository, data=data,
                                  headers={"Content-Type": "application/octet-stream"})
        assert status == 201, f"blob upload answered {status}"
        return {"digest": digest, "size": len(data)}

    def manifest(self, repository, reference, document, media_type):
        body = json.dumps(document, sort_keys=True).encode()
        status, headers, _ = self._call("PUT", f"/v2/{repository}/manifests/{reference}", repository,
                                        data=body, headers={"Content-Type": media_type})
        assert status == 201, f"manifest PUT answered {status}"
        return {"mediaType": media_type, "digest": headers["Docker-Content-Digest"], "size": len(body)}

    def blobs(self, repository, platform, oci):
        """The config and one-file layer of a platform's image, uploaded once per repository."""
        key = (repository, platform, oci)
        if key not in self.uploaded:
            content = (f"{repository} for {platform}\n").encode()
            tar_bytes = io.BytesIO()
            with tarfile.open(fileobj=tar_bytes, mode="w") as archive:
                info = tarfile.TarInfo("etc/image-release")
                info.size, info.mtime = len(content), 0
                archive.addfile(info, io.BytesIO(content))
            os_name, arch = platform.split("/")
            diff_id = "sha256:" + hashlib.sha256(tar_bytes.getvalue()).hexdigest()
            config = {"architecture": arch, "os": os_name, "rootfs": {"type": "layers", "diff_ids": [diff_id]}}
            config_desc = self.blob(repository, json.dumps(config, sort_keys=True).encode())
            layer_desc = self.blob(repository, gzip.compress(tar_bytes.getvalue(), mtime=0))
            self.uploaded[key] = (dict(config_desc, mediaType=OCI_CONFIG if oci else DOCKER_CONFIG),
                                  dict(layer_desc, mediaType=OCI_LAYER if oci else DOCKER_LAYER))
        return self.uploaded[key]

    def image(self, repository, tag, platform, oci):
        """One single-platform image manifest (annotated with its tag, so every build has its own digest)."""
        config, layer = self.blobs(repository, platform, oci)
        manifest_type = OCI_MANIFEST if oci else DOCKER_MANIFEST
        document = {"schemaVersion": 2, "mediaType": manifest_type, "config": config, "layers": [layer],
                    "annotations": {"org.opencontainers.image.version": tag}}
        return document, manifest_type

    def push(self, repository, tag, kind):
        """Tag `repository:tag` as kind: 'docker' (one manifest), 'docker-list' or 'oci-index' (amd64 + arm64)."""
        if kind == "docker":
            document, media_type = self.image(repository, tag, "linux/amd64", oci=False)
            return self.manifest(repository, tag, document, media_type)["digest"]
        oci = kind == "oci-index"
        children = []
        for platform in ("linux/amd64", "linux/arm64"):
            document, media_type = self.image(repository, tag, platform, oci)
            digest = "sha256:" + hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()
            child = self.manifest(repository, digest, document, media_type)
            os_name, arch = platform.split("/")
            children.append(dict(child, platform={"os": os_name, "architecture": arch}))
        media_type = OCI_INDEX if oci else DOCKER_LIST
        document = {"schemaVersion": 2, "mediaType": media_type, "manifests": children,
                    "annotations": {"org.opencontainers.image.version": tag}}
        return self.manifest(repository, tag, document, media_type)["digest"]


class RegistryProcess:
    """docker-registry serve with a config of the test's own, on an ephemeral loopback port."""

    def __init__(self, directory, realm, cert_path):
        self.directory = directory
        config = os.path.join(directory, "config.yml")
        with open(config, "w") as handle:
            handle.write(json.dumps({
                "version": 0.1,
                "log": {"level": "info", "accesslog": {"disabled": True}},
                "storage": {"filesystem": {"rootdirectory": os.path.join(directory, "data")}},
                "http": {"addr": "127.0.0.1:0", "secret": uuid.uuid4().hex},
                "auth": {"token": {"realm": realm, "service": SERVICE, "issuer": ISSUER,
                                   "rootcertbundle": cert_path}},
            }))   # JSON is YAML
        self.log_path = os.path.join(directory, "registry.log")
        self.log = open(self.log_path, "w")    # noqa: SIM115 (the registry writes to it until stop())
        self.process = subprocess.Popen(["docker-registry", "serve", config], stdout=self.log,
                                        stderr=subprocess.STDOUT)
        self.url = self._wait_listening()

    def _wait_listening(self):
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.process.poll() is not None:
                break
            with open(self.log_path) as handle:
                match = re.search(r"listening on (127\.0\.0\.1:\d+)", handle.read())
            if match:
                url = "http://" + match.group(1)
                try:
                    urllib.request.urlopen(url + "/v2/", timeout=2)
                except urllib.error.HTTPError as exc:
                    if exc.code == 401:
                        return url
                except OSError:
                    pass
            time.sleep(0.1)
        self.stop()
        with open(self.log_path) as handle:
            raise RuntimeError("docker-registry did not come up with token auth within 20 s:\n" + handle.read()[-3000:])

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


# What the test registry holds: repository -> (manifest kind, tags). The linuxserver repositories follow
# their Jenkinsfile (short X.Y.Z tag only from the stable branch, -develop/-nightly otherwise, every build
# also <full>-ls<N> and version-<full>; two-part versions get the build date: 25.3.20260109).
CONTENT = {
    "linuxserver/sonarr": ("docker-list", [
        "4.0.9", "4.0.9.2244-ls240", "4.0.18", "4.0.18.2978-ls299", "4.0.19", "4.0.19.2979-ls300",
        "version-4.0.19.2979", "latest", "4.0.20-develop", "develop-4.0.20.3001-ls12", "develop",
        "4.1.0-nightly", "nightly-4.1.0.100-ls5", "nightly"]),
    "linuxserver/radarr": ("docker-list", [
        "5.28.0", "5.28.0.10274-ls286", "6.0.3-develop", "develop-6.0.3.10250-ls283", "6.0.3-nightly",
        "nightly-6.0.3.10260-ls290", "6.0.4", "6.0.4.10291-ls287", "version-6.0.4.10291", "latest", "develop",
        "nightly"]),
    "linuxserver/nzbget": ("docker-list", [
        "25.2.20251101", "v25.2-ls205", "25.3.20260109", "v25.3-ls215", "version-v25.3", "latest",
        "25.4.20260301-testing", "testing-v25.4-ls3"]),
    "library/nginx": ("docker", [
        "1.29.2-alpine", "1.29.3-alpine", "1.29.10-alpine", "1.29.3", "1.30.0", "1.29-alpine", "1-alpine",
        "mainline-alpine", "alpine", "latest", "1.29.11-alpine-slim", "1.29.11-alpine3.22", "1.31.0-rc1-alpine"]),
    "onedr0p/exportarr": ("oci-index", [
        "v2.2.0", "v2.3.0", "v2.10.0-rc.1", "v2.4.0-beta.2", "main", "latest", "sha-1a2b3c4", "master"]),
    "org/tool": ("oci-index", ["1.0.0", "1.1.0", "1.2.0-rc1", "2.0.0-alpha", "edge", "1.1", "20260101"]),
    "org/thing": ("docker", ["3.1.0", "3.2.0", "3.3.0-beta1"]),
}


@contextlib.contextmanager
def running(directory):
    """The registry (.url, token auth), its two front doors, the token request log (.tokens), pushed .digests."""
    issuer = TokenIssuer(directory)
    tokens = token_server(issuer)
    realm = tokens.url + "/token"
    process = RegistryProcess(directory, realm, issuer.cert_path)
    no_head = front_door(process.url, refuse_head=True)
    paging = front_door(process.url, paginate=True)
    try:
        pusher = Pusher(process.url, realm)
        digests = {}
        for repository, (kind, tags) in CONTENT.items():
            for tag in tags:
                digests[(repository, tag)] = pusher.push(repository, tag, kind)
        del tokens.requests[:]        # only the checker's own token requests from here on
        yield types.SimpleNamespace(url=process.url, head_refusing_url=no_head.url, paginating_url=paging.url,
                                    pages=paging.pages, realm=realm, tokens=tokens.requests, digests=digests,
                                    log_path=process.log_path)
    finally:
        paging.stop()
        no_head.stop()
        process.stop()
        tokens.stop()


def load_checker():
    """scripts/check-pins.py as a module (its file name has a dash)."""
    spec = importlib.util.spec_from_file_location("check_pins", CHECKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def closed_port():
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_checker(*args, env=None, timeout=120):
    """scripts/check-pins.py as `make check-pins` runs it; returns (exit code, stdout, stderr, seconds)."""
    environment = {k: v for k, v in os.environ.items() if k != "CHECK_PINS_REGISTRY_MAP"}
    environment.update(env or {})
    started = time.time()
    result = subprocess.run([sys.executable, CHECKER, *args], check=False, capture_output=True, text=True,
                            timeout=timeout, env=environment)
    return result.returncode, result.stdout, result.stderr, time.time() - started
