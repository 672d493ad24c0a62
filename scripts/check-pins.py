#!/usr/bin/env python3
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check every image pin of the catalog against its registry (make check-pins).

For each image field of roles/catalog/services/*.yml (every key named ``image`` or ending in ``_image``,
at any depth: ``image``, ``metrics.image``, ...) this asks the image's registry, through the OCI
distribution API, whether the pinned tag (or digest) exists, and lists the registry's tags to show the
newest *stable* tag beside it:

- linuxserver images (lscr.io/linuxserver/*, ghcr.io/linuxserver/*, docker.io/linuxserver/*): their
  Jenkinsfile pushes a short ``<major>.<minor>.<patch>`` tag only for builds of the default (stable)
  branch; other branches get ``-develop``/``-nightly``/... appended, every build also gets
  ``<full version>-ls<N>`` and ``version-<full version>``, and a two-part upstream version gets the build
  date as third part (``25.3.20260109``). Only the short three-part tags count. (Source: the
  Jenkinsfile template of every linuxserver image, e.g. linuxserver/docker-wireguard, stage
  "Sanitize tag" and the push stages.)
- everything else: version tags of the same shape as the pin (same ``v`` prefix, same number of parts,
  same variant suffix such as ``-alpine``), pre-releases (``-rc``, ``-beta``, ``alpha``...) and moving
  tags (``latest``, ``edge``, ``main``, ``sha-...``) ignored, sorted by number.

Anonymous access as ``docker pull`` does it: the registry answers ``GET /v2/`` with 401 and a
``WWW-Authenticate: Bearer realm=...,service=...`` challenge; a token for ``repository:<name>:pull``
comes from the realm without credentials. Each registry is probed once with a short timeout: an
unreachable registry costs one line and one timeout, not one per image.

Exit status: 0 every pin exists; 1 at least one pin does not exist (or anonymous pulls of it are
refused); 2 nothing missing was found but some pins could not be checked (network, registry errors).

Needs only the Python standard library plus PyYAML, the parser Ansible itself reads the catalog with
(pinned in requirements.txt; ``make check-pins`` runs it from the project's .venv).
"""

import argparse
import concurrent.futures
import http.client
import json
import os
import re
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
DEFAULT_CATALOG = os.path.join(ROOT, "roles", "catalog", "services")
MAP_ENV = "CHECK_PINS_REGISTRY_MAP"
USER_AGENT = "monsterr-check-pins/1"

DOCKER_HUB = "docker.io"
DOCKER_HUB_ALIASES = ("docker.io", "index.docker.io", "registry-1.docker.io")
# Where a registry's API lives when it is not https://<name>.
DEFAULT_ENDPOINTS = {DOCKER_HUB: "https://registry-1.docker.io"}

# A tag may point at a multi-platform index: without these in Accept, a registry answers 404 for it
# (Distribution: "OCI index found, but accept header does not support OCI indexes").
MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)

DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-fA-F0-9]{32,}$")
TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
REPO_RE = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")

LINUXSERVER_REGISTRIES = ("lscr.io", "ghcr.io", DOCKER_HUB)
LINUXSERVER_STABLE_RE = re.compile(r"^\d+\.\d+\.\d+$")
VERSION_TAG_RE = re.compile(r"^(?P<prefix>v?)(?P<numbers>\d+(?:\.\d+)*)(?P<rest>(?:[-_+].*)?)$")
PRERELEASE_RE = re.compile(
    r"(?:^|[-_.+])(?:rc|beta|alpha|pre|preview|dev|develop|nightly|snapshot|canary|edge|testing|unstable|test)"
    r"(?:[-_.+]?\d+)*(?=$|[-_.+])", re.IGNORECASE)


# --------------------------------------------------------------------------------------------------
# Catalog


def image_fields(entry, path=""):
    """Yield (field path, value) for every key named image or ending in _image, at any depth."""
    if isinstance(entry, dict):
        for key, value in entry.items():
            here = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and (key == "image" or key.endswith("_image")) and isinstance(value, str):
                yield here, value
            else:
                for found in image_fields(value, here):
                    yield found
    elif isinstance(entry, list):
        for index, value in enumerate(entry):
            for found in image_fields(value, f"{path}[{index}]"):
                yield found


def read_catalog(directory):
    """Every image pin of the catalog: a list of dicts with app, field, file, image."""
    try:
        import yaml
    except ImportError:
        raise SystemExit("check-pins: PyYAML is missing: run it from the project's tool environment "
                         "(`make setup`, then `make check-pins`)")
    if not os.path.isdir(directory):
        raise SystemExit(f"check-pins: catalog directory {directory} does not exist (--catalog)")
    names = sorted(n for n in os.listdir(directory) if n.endswith((".yml", ".yaml")))
    if not names:
        raise SystemExit(f"check-pins: no *.yml files in catalog directory {directory} (--catalog)")
    pins = []
    for name in names:
        path = os.path.join(directory, name)
        with open(path) as handle:
            try:
                data = yaml.safe_load(handle)
            except yaml.YAMLError as exc:
                raise SystemExit(f"check-pins: {path} is not valid YAML: {exc}")
        if not isinstance(data, dict):
            raise SystemExit(f"check-pins: {path} does not hold a mapping of app name to entry")
        for app, entry in data.items():
            for field, image in image_fields(entry):
                pins.append({"app": str(app), "field": field, "file": path, "image": image})
    return pins


# --------------------------------------------------------------------------------------------------
# Image references


class Reference:
    """registry (as written, docker.io for Docker Hub), repository, tag, digest."""

    def __init__(self, registry, repository, tag, digest):
        self.registry, self.repository, self.tag, self.digest = registry, repository, tag, digest

    @property
    def key(self):
        return (self.registry, self.repository, self.tag, self.digest)

    @property
    def reference(self):
        """What the manifest request names: the digest if pinned by digest, else the tag."""
        return self.digest or self.tag


def parse_reference(image):
    """Split an image reference the way docker does; ValueError with the reason if it is not one."""
    if not isinstance(image, str) or not image or image != image.strip():
        raise ValueError("not an image reference")
    if "{{" in image or "{%" in image:
        raise ValueError("a template, not a pinned reference")
    name, digest = image, None
    if "@" in name:
        name, digest = name.split("@", 1)
        if not DIGEST_RE.match(digest):
            raise ValueError(f"digest {digest!r} is not <algorithm>:<hex>")
    tag = None
    if ":" in name.rsplit("/", 1)[-1]:
        name, tag = name.rsplit(":", 1)
        if not TAG_RE.match(tag):
            raise ValueError(f"tag {tag!r} is not a valid tag")
    first, _, remainder = name.partition("/")
    if remainder and ("." in first or ":" in first or first == "localhost"):
        registry, repository = first, remainder
    else:
        registry, repository = DOCKER_HUB, name
    if registry in DOCKER_HUB_ALIASES:
        registry = DOCKER_HUB
        if "/" not in repository:
            repository = "library/" + repository
    if not REPO_RE.match(repository):
        raise ValueError(f"repository {repository!r} is not a valid name (lowercase, / separated)")
    if tag is None and digest is None:
        tag = "latest"
    return Reference(registry, repository, tag, digest)


# --------------------------------------------------------------------------------------------------
# Tag schemes


def version_key(numbers):
    return tuple(int(part) for part in numbers.split("."))


def is_linuxserver(registry, repository):
    return registry in LINUXSERVER_REGISTRIES and repository.split("/", 1)[0] == "linuxserver"


def newest_linuxserver(tags):
    """Newest short stable tag of a linuxserver image (X.Y.Z, or X.Y.YYYYMMDD for two-part versions).

    Skips the per-build tags (``4.0.19.2979-ls300``, ``version-4.0.19.2979``, ``v25.3-ls215``), branch
    builds (``6.0.3-develop``, ``4.1.0-nightly``, ``develop-...``, ``nightly-...``) and ``latest``.
    """
    stable = [t for t in tags if LINUXSERVER_STABLE_RE.match(t)]
    return max(stable, key=version_key) if stable else None


def split_version(tag):
    """(prefix, numbers, rest) of a version-like tag, or None (latest, main, sha-abc, edge...)."""
    match = VERSION_TAG_RE.match(tag)
    if not match:
        return None
    return match.group("prefix"), match.group("numbers"), match.group("rest")


def is_prerelease(rest):
    return bool(PRERELEASE_RE.search(rest))


def newest_semver(tags, pinned=None):
    """Newest stable version tag shaped like the pinned one (same v prefix, parts, variant suffix).

    ``1.29.3-alpine`` compares with ``1.29.10-alpine`` but not with ``1.29.10`` or ``1.29-alpine``;
    ``v2.3.0`` with ``v2.4.1``. Pre-releases and moving tags never count. Without a usable pin
    (a digest-only pin, ``latest``) plain ``X.Y[.Z]`` tags count, with or without ``v``.
    """
    shape = split_version(pinned) if pinned else None
    if shape and is_prerelease(shape[2]):
        shape = (shape[0], shape[1], "")
    candidates = []
    for tag in tags:
        parts = split_version(tag)
        if not parts or is_prerelease(parts[2]):
            continue
        prefix, numbers, rest = parts
        if shape:
            if (prefix, rest) != (shape[0], shape[2]) or numbers.count(".") != shape[1].count("."):
                continue
        elif rest or "." not in numbers:
            continue
        candidates.append(tag)
    return max(candidates, key=lambda t: version_key(split_version(t)[1])) if candidates else None


def newest_stable(ref, tags):
    """The newest stable tag under the registry's scheme, and the scheme's name."""
    if is_linuxserver(ref.registry, ref.repository):
        return newest_linuxserver(tags), "linuxserver"
    return newest_semver(tags, ref.tag if ref.tag != "latest" else None), "semver"


def is_newer(newest, pinned):
    """Whether newest is a newer version than the pinned tag, compared over the parts both have.

    4.0.19.2979-ls300 vs 4.0.19: no (same version); v25.3-ls215 vs 25.3.20260109: no (a rebuild);
    6.0.3 vs 6.0.4: yes. A pin that is no version (a digest, latest) never counts.
    """
    numbers = [re.match(r"^v?(\d+(?:\.\d+)*)", tag or "") for tag in (newest, pinned)]
    if not all(numbers):
        return False
    new, old = (version_key(match.group(1)) for match in numbers)
    width = min(len(new), len(old))
    return new[:width] > old[:width]


def similar_tags(tag, tags, limit=4):
    """Existing tags that start with the missing one (6.0.3 -> 6.0.3-develop; 25.3 -> 25.3.20260109)."""
    if not tag:
        return []
    found = [t for t in tags if t != tag and t.startswith((tag + "-", tag + ".", "v" + tag + "-"))]
    return sorted(found)[:limit]


# --------------------------------------------------------------------------------------------------
# Registry client


class RegistryError(Exception):
    pass


class Unreachable(RegistryError):
    pass


class RepositoryNotFound(RegistryError):
    pass


def parse_challenge(header):
    """('bearer', {realm, service, scope, ...}) from a WWW-Authenticate header; (None, {}) if none."""
    if not header:
        return None, {}
    scheme, _, rest = header.strip().partition(" ")
    params = {}
    for key, quoted, bare in re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]*))', rest):
        params[key.lower()] = quoted if quoted or not bare else bare
    return scheme.lower(), params


class Response:
    def __init__(self, status, headers, body, url):
        self.status, self.headers, self.body, self.url = status, headers, body, url

    def error_code(self):
        """The first error code of a registry error body (MANIFEST_UNKNOWN, NAME_UNKNOWN...)."""
        try:
            return json.loads(self.body.decode("utf-8"))["errors"][0]["code"]
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            return None


class Registry:
    """One registry: its endpoint, one reachability probe, anonymous bearer tokens per scope."""

    def __init__(self, name, endpoint, timeout, page_size):
        self.name = name
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout
        self.page_size = page_size
        self.error = None           # why this registry could not be used (set once, stops further calls)
        self.auth = None            # None (open) or the Bearer challenge parameters from the probe
        self.tokens = {}
        self.lock = threading.Lock()

    # transport ------------------------------------------------------------------------------------
    def _open(self, method, url, headers):
        request = urllib.request.Request(url, method=method, headers=dict(headers, **{"User-Agent": USER_AGENT}))
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as reply:
                return Response(reply.status, reply.headers, reply.read() if method != "HEAD" else b"", url)
        except urllib.error.HTTPError as exc:
            try:
                body = exc.read() if method != "HEAD" else b""
            except (OSError, ValueError, http.client.HTTPException):
                body = b""
            return Response(exc.code, exc.headers, body, url)
        except (OSError, ValueError, http.client.HTTPException) as exc:   # URLError, timeouts, refused, TLS
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError):
                reason = f"no answer within {self.timeout:g} s"
            raise Unreachable(f"cannot reach {self.name} ({method} {url}): {reason}")

    def probe(self):
        """GET /v2/ once: reachable? which authentication? Sets self.error instead of raising."""
        url = self.endpoint + "/v2/"
        try:
            reply = self._open("GET", url, {})
        except Unreachable as exc:
            self.error = str(exc)
            return
        if reply.status == 200:
            return
        scheme, params = parse_challenge(reply.headers.get("WWW-Authenticate"))
        if reply.status == 401 and scheme == "bearer" and params.get("realm"):
            self.auth = params
        elif reply.status == 401:
            challenge = reply.headers.get("WWW-Authenticate") or "no challenge"
            self.error = (f"{self.name} (GET {url}) asks for credentials ({challenge}); "
                          "this checker only pulls anonymously")
        else:
            self.error = f"{self.name} (GET {url}) is not an OCI registry endpoint: HTTP {reply.status}"

    def token(self, params, scope):
        """An anonymous bearer token for scope from the challenge's realm (cached per realm and scope)."""
        realm, service = params["realm"], params.get("service")
        key = (realm, service, scope)
        with self.lock:
            if key in self.tokens:
                return self.tokens[key]
        query = [("service", service)] if service else []
        query.append(("scope", scope))
        url = realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(query)
        reply = self._open("GET", url, {"Accept": "application/json"})
        if reply.status != 200:
            raise RegistryError(f"{self.name}: the token service refused an anonymous token for {scope} "
                                f"(GET {url}): HTTP {reply.status}")
        try:
            document = json.loads(reply.body.decode("utf-8"))
            value = document.get("token") or document.get("access_token")
        except (ValueError, AttributeError):
            value = None
        if not value:
            raise RegistryError(f"{self.name}: the token service answered without a token (GET {url})")
        with self.lock:
            self.tokens[key] = value
        return value

    def request(self, method, path, repository, headers=None):
        """A request with the pull token for repository; one retry with the scope a 401 asks for."""
        if self.error:
            raise Unreachable(self.error)
        url = path if path.startswith(("http://", "https://")) else self.endpoint + path
        headers = dict(headers or {})
        scope = f"repository:{repository}:pull"
        params = self.auth
        try:
            for attempt in (1, 2):
                if params:
                    headers["Authorization"] = "Bearer " + self.token(params, scope)
                reply = self._open(method, url, headers)
                scheme, challenge = parse_challenge(reply.headers.get("WWW-Authenticate"))
                if reply.status == 401 and attempt == 1 and scheme == "bearer" and challenge.get("realm"):
                    params = challenge
                    scope = challenge.get("scope") or scope
                    continue
                return reply
        except Unreachable as exc:
            self.error = str(exc)      # one timeout per registry, not one per image
            raise
        return reply

    # API --------------------------------------------------------------------------------------------
    def manifest(self, repository, reference):
        """(exists, digest, note) for /v2/<repository>/manifests/<reference>; HEAD, GET if HEAD is refused."""
        path = f"/v2/{repository}/manifests/{reference}"
        headers = {"Accept": ", ".join(MANIFEST_TYPES)}
        method = "HEAD"
        reply = self.request(method, path, repository, headers)
        if reply.status in (400, 405, 501):
            method = "GET"
            reply = self.request(method, path, repository, headers)
        if reply.status == 200:
            return True, reply.headers.get("Docker-Content-Digest"), None
        if reply.status == 404:
            code = reply.error_code()
            return False, None, (f"repository {repository} not found" if code == "NAME_UNKNOWN" else None)
        if reply.status in (401, 403):
            return False, None, (f"anonymous pull refused (HTTP {reply.status}): "
                                 "the repository is private or does not exist")
        if reply.status == 429:
            raise RegistryError(f"{self.name} rate-limits this address (HTTP 429 on {method} {reply.url}); "
                                "try again later")
        raise RegistryError(f"{self.name} answered HTTP {reply.status} to {method} {reply.url}")

    def tags(self, repository):
        """Every tag of repository, following Link: <...>; rel="next" pagination."""
        url = f"{self.endpoint}/v2/{repository}/tags/list?" + urllib.parse.urlencode({"n": self.page_size})
        tags, seen = [], set()
        while url and url not in seen and len(seen) < 1000:
            seen.add(url)
            reply = self.request("GET", url, repository, {"Accept": "application/json"})
            if reply.status == 404 and reply.error_code() == "NAME_UNKNOWN":
                raise RepositoryNotFound(f"repository {repository} not found")
            if reply.status != 200:
                raise RegistryError(f"{self.name} answered HTTP {reply.status} to GET {url}")
            try:
                tags.extend(json.loads(reply.body.decode("utf-8")).get("tags") or [])
            except (ValueError, AttributeError):
                raise RegistryError(f"{self.name}: GET {url} did not answer a tag list")
            url = next_link(reply.headers.get("Link"), url)
        return tags


def next_link(header, current):
    """The absolute URL of rel="next" in a Link header, or None."""
    for part in (header or "").split(","):
        match = re.match(r'\s*<([^>]*)>\s*;(.*)', part)
        if match and re.search(r'rel="?next"?', match.group(2)):
            return urllib.parse.urljoin(current, match.group(1))
    return None


# --------------------------------------------------------------------------------------------------
# Checking


def parse_registry_map(items):
    """{registry: endpoint} from "name=url" items (comma or space separated); "*" maps every registry."""
    mapping = {}
    for item in items:
        for pair in re.split(r"[,\s]+", item.strip()):
            if not pair:
                continue
            name, sep, url = pair.partition("=")
            parsed = urllib.parse.urlparse(url)
            if not sep or not name or parsed.scheme not in ("http", "https") or not parsed.netloc:
                raise SystemExit(f"check-pins: registry map entry {pair!r} is not <registry>=<http(s)://host[:port]> "
                                 f"(--registry-map or {MAP_ENV}), e.g. lscr.io=http://127.0.0.1:5000")
            mapping[DOCKER_HUB if name in DOCKER_HUB_ALIASES else name] = url.rstrip("/")
    return mapping


def endpoint_for(registry, mapping):
    return mapping.get(registry) or mapping.get("*") or DEFAULT_ENDPOINTS.get(registry) or "https://" + registry


def check_one(ref, registry):
    """The facts about one distinct reference: exists, newest stable, notes, error."""
    result = {"exists": None, "newest_stable": None, "scheme": None, "digest": None, "notes": [], "error": None}
    if registry.error:
        result["error"] = registry.error
        return result
    try:
        exists, digest, note = registry.manifest(ref.repository, ref.reference)
        result["exists"], result["digest"] = exists, digest
        if note:
            result["notes"].append(note)
        if ref.digest and ref.tag:
            tag_exists, tag_digest, _ = registry.manifest(ref.repository, ref.tag)
            if not tag_exists:
                result["notes"].append(f"tag {ref.tag} does not exist (the digest does)" if exists
                                       else f"tag {ref.tag} does not exist either")
            elif tag_digest and tag_digest != ref.digest:
                result["notes"].append(f"tag {ref.tag} now points at {tag_digest}")
    except RegistryError as exc:
        result["error"] = str(exc)
        return result
    if exists is False and note:            # no repository, or no anonymous access to it: no tags either
        return result
    try:
        tags = registry.tags(ref.repository)
    except RepositoryNotFound as exc:
        result["notes"].append(str(exc))
        return result
    except RegistryError as exc:
        result["notes"].append(f"tags not listed: {exc}")
        return result
    result["newest_stable"], result["scheme"] = newest_stable(ref, tags)
    if exists is False and ref.tag and not ref.digest:
        near = similar_tags(ref.tag, tags)
        if near:
            result["notes"].append(f"existing tags that start with {ref.tag}: {', '.join(near)}")
    if ref.tag == "latest" and not ref.digest:
        result["notes"].append("latest moves with every release: pin a version")
    if exists and result["newest_stable"] is None:
        result["notes"].append(f"no stable tag under the {result['scheme']} scheme")
    return result


def check(pins, mapping, timeout, page_size, jobs):
    """Fill each pin dict with registry, exists, newest_stable, notes, error; return the registries."""
    registries = {}
    for pin in pins:
        try:
            pin["ref"] = parse_reference(pin["image"])
        except ValueError as exc:          # nobody can pull it: as broken as a missing tag
            pin["ref"] = None
            pin.update(exists=False, newest_stable=None, notes=[f"not a pullable image reference: {exc}"],
                       error=None)
            continue
        name = pin["ref"].registry
        if name not in registries:
            registries[name] = Registry(name, endpoint_for(name, mapping), timeout, page_size)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(registries))) as pool:
        list(pool.map(lambda r: r.probe(), registries.values()))
    distinct = {}
    for pin in pins:
        if pin["ref"] is not None:
            distinct.setdefault(pin["ref"].key, pin["ref"])
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {key: pool.submit(check_one, ref, registries[ref.registry]) for key, ref in distinct.items()}
        results = {key: future.result() for key, future in futures.items()}
    for pin in pins:
        ref = pin["ref"]
        if ref is None:
            continue
        pin.update(results[ref.key])
        pin["notes"] = list(results[ref.key]["notes"])
        pin["registry"], pin["repository"], pin["tag"], pin["pinned_digest"] = ref.key
    return registries


def summarize(pins, registries):
    missing = [p for p in pins if p.get("exists") is False]
    unchecked = [p for p in pins if p.get("exists") is None]
    return {
        "pins": len(pins),
        "exist": sum(1 for p in pins if p.get("exists") is True),
        "missing": len(missing),
        "unchecked": len(unchecked),
        "newer_stable": sum(1 for p in pins if p.get("exists") and is_newer(p.get("newest_stable"), p.get("tag"))),
        "registry_errors": {name: r.error for name, r in sorted(registries.items()) if r.error},
        "exit": 1 if missing else (2 if unchecked else 0),
    }


def label(pin):
    return pin["app"] if pin["field"] == "image" else f"{pin['app']} {pin['field']}"


def render_text(pins, registries, summary, out):
    rows = [("APP", "PINNED", "EXISTS", "NEWEST STABLE")]
    for pin in pins:
        exists = {True: "yes", False: "NO", None: "?"}[pin.get("exists")]
        newest = pin.get("newest_stable") or ("?" if pin.get("exists") is None or pin.get("error") else "-")
        rows.append((label(pin), pin["image"], exists, newest))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for index, row in enumerate(rows):
        line = "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3]
        notes = []
        if index:
            pin = pins[index - 1]
            notes = list(pin.get("notes") or [])
            registry = registries.get(pin.get("registry"))
            if pin.get("error") and registry is not None and pin["error"] == registry.error:
                notes.append(f"not checked: {registry.name} could not be used, see below")
            elif pin.get("error"):
                notes.append(pin["error"])
        if notes:
            line += "  (" + "; ".join(notes) + ")"
        out.write(line.rstrip() + "\n")
    out.write("\n")
    for error in summary["registry_errors"].values():
        out.write(f"check-pins: {error}\n")
    out.write("check-pins: {pins} pins: {exist} exist, {missing} missing, {unchecked} not checked; "
              "{newer_stable} have a newer stable tag\n".format(**summary))
    if summary["missing"]:
        out.write("check-pins: a missing pin breaks every fresh install: pin a tag that exists "
                  "(NEWEST STABLE is what the registry offers)\n")


def render_json(pins, registries, summary, out):
    keys = ("app", "field", "file", "image", "registry", "repository", "tag", "pinned_digest", "exists",
            "digest", "newest_stable", "scheme", "notes", "error")
    document = {
        "pins": [{k: pin.get(k) for k in keys} for pin in pins],
        "registries": {name: {"endpoint": r.endpoint, "error": r.error} for name, r in sorted(registries.items())},
        "summary": summary,
    }
    json.dump(document, out, indent=2, sort_keys=True)
    out.write("\n")


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="check-pins",
        description="Ask each registry whether every image pin of the catalog exists; show the newest stable tag.",
        epilog="Exit status: 0 all pins exist, 1 a pin is missing, 2 some pins could not be checked. "
               f"Environment: {MAP_ENV} (same format as --registry-map).")
    parser.add_argument("apps", nargs="*", help="only these apps (default: every catalog file)")
    parser.add_argument("--catalog", default=DEFAULT_CATALOG, metavar="DIR",
                        help="directory of catalog files (default: roles/catalog/services)")
    parser.add_argument("--registry-map", action="append", default=[], metavar="REGISTRY=URL",
                        help="send a registry's requests to URL instead (repeatable, or comma separated; "
                             "'*=URL' for every registry), e.g. lscr.io=http://127.0.0.1:5000")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--timeout", type=float, default=8.0, metavar="SECONDS",
                        help="per request, including the one reachability probe per registry (default 8)")
    # 100: what the OCI distribution spec asks every registry to support; quay.io refuses more
    # (TOO_MANY_TAGS_REQUESTED, fluxcd/image-reflector-controller#585). Link pages are followed.
    parser.add_argument("--page-size", type=int, default=100, metavar="N",
                        help="tags asked per tags/list page (default 100; the next pages are followed)")
    parser.add_argument("--jobs", type=int, default=6, help="images checked in parallel (default 6)")
    args = parser.parse_args(argv)

    mapping = parse_registry_map(([os.environ[MAP_ENV]] if os.environ.get(MAP_ENV) else []) + args.registry_map)
    pins = read_catalog(args.catalog)
    if args.apps:
        unknown = sorted(set(args.apps) - {p["app"] for p in pins})
        if unknown:
            parser.error(f"no such app in {args.catalog}: {', '.join(unknown)}")
        pins = [p for p in pins if p["app"] in args.apps]
    registries = check(pins, mapping, args.timeout, args.page_size, args.jobs)
    summary = summarize(pins, registries)
    (render_json if args.json else render_text)(pins, registries, summary, sys.stdout)
    return summary["exit"]


if __name__ == "__main__":
    sys.exit(main())
