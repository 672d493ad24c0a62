# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every catalog entry and every test override, held to the upstream facts of its image.

roles/catalog/image-facts.yml holds, per image repository, what upstream shows and where (user model, probe
tools, address family, writable paths, environment, secret formats, tag scheme, start-up chown). This test renders
the compose project of the shipped catalog (every service enabled) and of every catalog_overrides found in the
repository's test inventories (molecule/**, tests/images/overrides.yml, scripts/demo-vars.yml), exactly as the
stack layer does, and checks each container against its image's row:

- the image has a row, and its pinned tag matches the registry's tag scheme and was checked to exist;
- a health probe targets 127.0.0.1 (never localhost: Docker >= 26 maps it to ::1 first, and busybox wget does
  not fall back) with a tool the image has, on a port the server listens on over IPv4;
- `user:` versus PUID/PGID follows the image's user model, and an entrypoint that chowns as root never runs as root;
- a read-only container gets every path its image writes at start (tmpfs);
- every environment variable is one the image reads;
- every generated secret has a pattern, its format produces values of that pattern, and every value of that
  pattern is accepted by every consumer (the image itself, an env variable of another image, or an app that is
  given another app's key through the wiring or a seed).

Each failure names the app, the field, the value, the fact and its source. The facts are data read upstream; the
code under test (catalog_resolve, stack_compose) does not read them, so this test does not share a table with it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import glob
import os
import random
import re
import string

import jinja2
import pytest
import yaml

from ansible_collections.monsterr.mediaserver.plugins.filter.catalog import catalog_resolve
from ansible_collections.monsterr.mediaserver.plugins.filter.stack import stack_compose, stack_secret_specs
from ansible_collections.monsterr.mediaserver.plugins.lookup.household_secret import make_secret

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SERVICES = os.path.join(ROOT, "roles", "catalog", "services")
FACTS_FILE = os.path.join(ROOT, "roles", "catalog", "image-facts.yml")
SEEDS = os.path.join(ROOT, "roles", "stack", "templates", "seeds")
APPDATA, DATA = "/opt/monsterr", "/data"
HOUSEHOLD = {"household_puid": 2000, "household_pgid": 2000, "household_timezone": "Europe/Berlin",
             "household_domain": "media.example.org", "catalog_torrent_port": 6881, "catalog_metrics_retention": "30d",
             "household_appdata_root": APPDATA, "household_data_root": DATA}
OPTIONS = {"project": "monsterr", "network": "monsterr", "subnet": "10.223.0.0/24", "data_root": DATA,
           "puid": 2000, "pgid": 2000, "timezone": "Europe/Berlin", "umask": "002",
           "healthcheck_interval": "30s", "healthcheck_timeout": "10s", "healthcheck_retries": 3,
           "healthcheck_start_period": "30s", "healthcheck_start_interval": "3s"}
# Where the repository keeps inventories and vars files with catalog_overrides for the tests and the demo.
OVERRIDE_GLOBS = ["molecule/**/*.yml", "molecule/**/*.yaml", "tests/images/overrides.yml", "scripts/demo-vars.yml"]
USER_MODELS = ("s6", "puid-env", "fixed", "any", "root")
# Catalog `wiring` kinds whose app is given the *arr apps' keys by the wiring layer (plugins/filter/wiring.py).
WIRED_CONSUMERS = {"prowlarr": "servarr/api_key", "bazarr": "servarr/api_key", "overseerr": "servarr/api_key"}
PROBE_TOOLS = {"curl": ("curl",), "wget": ("busybox-wget", "gnu-wget"), "redis-cli": ("redis-cli",), "nc": ("nc",)}


def _render(value, variables):
    if isinstance(value, dict):
        return dict((k, _render(v, variables)) for k, v in value.items())
    if isinstance(value, list):
        return [_render(v, variables) for v in value]
    if isinstance(value, str) and "{{" in value:
        return jinja2.Environment(undefined=jinja2.ChainableUndefined).from_string(value).render(variables)
    return value


def load_facts():
    with open(FACTS_FILE) as handle:
        return yaml.safe_load(handle)["images"]


def load_shipped():
    catalog = {}
    for path in sorted(glob.glob(os.path.join(SERVICES, "*.yml"))):
        with open(path) as handle:
            catalog.update(_render(yaml.safe_load(handle), HOUSEHOLD))
    return catalog


def _find_overrides(node, where, found):
    if isinstance(node, dict):
        if isinstance(node.get("catalog_overrides"), dict):
            found.append((where, node.get("catalog_enabled"), node["catalog_overrides"]))
        for key, value in node.items():
            if key != "catalog_overrides":
                _find_overrides(value, where, found)
    elif isinstance(node, list):
        for value in node:
            _find_overrides(value, where, found)


def override_sets():
    """(file, catalog_enabled or None, catalog_overrides) for every override in the repository's test inventories."""
    found = []
    for pattern in OVERRIDE_GLOBS:
        for path in sorted(glob.glob(os.path.join(ROOT, pattern), recursive=True)):
            with open(path) as handle:
                try:
                    documents = list(yaml.safe_load_all(handle))
                except yaml.YAMLError:
                    continue
            for document in documents:
                _find_overrides(document, os.path.relpath(path, ROOT), found)
    return found


def split_image(image):
    image = image.split("@", 1)[0]
    repo, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "")
    return repo, tag


def _src(fact):
    source = fact.get("source") if isinstance(fact, dict) else None
    sources = source if isinstance(source, list) else [source]
    return "; ".join("%s %s @ %s" % (s.get("repo"), s.get("path"), s.get("ref")) for s in sources if isinstance(s, dict)) \
        or "NO SOURCE"


class Report(object):
    def __init__(self, label):
        self.label = label
        self.problems = []

    def fail(self, app, field, value, fact, row, key, detail=None):
        """detail: the fact inside row[key] that was broken (a secret format), for its own source."""
        where = detail if detail is not None else (row.get(key) if row else None)
        self.problems.append("[%s] %s %s = %r: %s (image fact %s, source: %s)"
                             % (self.label, app, field, value, fact, key, _src(where)))


def _corpus():
    """Candidate secret values: every alphabet the formats and consumers speak, at lengths around their bounds."""
    rng = random.Random(20261203)
    alphabets = {"hex": "0123456789abcdef", "HEX": "0123456789ABCDEF", "digits": string.digits,
                 "alnum": string.ascii_letters + string.digits, "base64": string.ascii_letters + string.digits + "+/",
                 "symbols": string.ascii_letters + string.digits + "-_.~!@#%^&*"}
    out = set()
    for alphabet in alphabets.values():
        for length in (1, 8, 16, 19, 20, 21, 22, 31, 32, 33, 40, 42, 43, 44, 63, 64, 65, 128):
            for _ in range(6):
                out.add("".join(rng.choice(alphabet) for _ in range(length)))
    for length in (32, 43, 44, 64):
        out.add("".join(rng.choice(alphabets["base64"]) for _ in range(length - 1)) + "=")
    return sorted(out)


CORPUS = _corpus()


def _check_secret_against(report, app, field, spec, consumer, row, key):
    """Every value of the spec's pattern is accepted by the consumer (sampled over CORPUS and generated values)."""
    consumer_pattern = consumer["pattern"]
    accepted = re.compile(consumer_pattern)
    ours = re.compile(spec["pattern"])
    samples = [make_secret(spec["format"], spec["pattern"]) for _ in range(30)]
    bad = [v for v in CORPUS + samples if ours.search(v) and not accepted.search(v)]
    if bad:
        report.fail(app, field, spec["pattern"], "admits values the consumer refuses (e.g. %r); the consumer accepts "
                    "%s" % (bad[0], consumer_pattern), row, key, consumer)


def _volumes_writable(service):
    return [v["target"] for v in service.get("volumes") or [] if not v.get("read_only")]


def _covered(path, service):
    places = list(service.get("tmpfs") or []) + _volumes_writable(service)
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in places)


def _probe_commands(test):
    if isinstance(test, str):
        return [test]
    if test and test[0] == "CMD-SHELL":
        return [" ".join(test[1:])]
    if test and test[0] == "CMD":
        return [" ".join(test[1:])]
    return []


def check_service(report, name, service, entry, facts, specs_by_placeholder, specs, resolved, sidecar=False):
    image = service["image"]
    repo, tag = split_image(image)
    row = facts.get(repo)
    if row is None:
        report.problems.append("[%s] %s image = %r: no row for %s in roles/catalog/image-facts.yml (add the image's "
                               "upstream facts with their sources)" % (report.label, name, image, repo))
        return
    for key in ("tags", "user", "probe", "listen", "writable", "env", "startup"):
        if not isinstance(row.get(key), dict) or _src(row[key]) == "NO SOURCE":
            report.fail(name, "image", image, "the row has no %s fact with a source" % key, row, key)
            return

    # Tag: the registry's scheme, and a tag somebody checked exists.
    tags = row["tags"]
    if not re.search(tags.get("pattern") or "^$", tag):
        report.fail(name, "image", image, "tag %r is not a tag the registry pushes for releases (%s; pattern %s)"
                    % (tag, " ".join((tags.get("scheme") or "").split()), tags.get("pattern")), row, "tags")
    elif tag not in (tags.get("checked") or {}):
        report.fail(name, "image", image, "tag %r was never checked to exist (checked: %s)"
                    % (tag, ", ".join(sorted(tags.get("checked") or {}))), row, "tags")

    # User model.
    user = row["user"]
    model = user.get("model")
    has_user = service.get("user") not in (None, "")
    user_env = "PUID" in (service.get("environment") or {})
    touches = [v for v in service.get("volumes") or [] if v["source"].startswith(APPDATA + "/") or v["source"] == DATA]
    writes_household = [v for v in touches if not v.get("read_only")]
    if model not in USER_MODELS:
        report.fail(name, "image", image, "user model %r is not one of %s" % (model, ", ".join(USER_MODELS)), row, "user")
    elif model == "s6":
        if has_user:
            report.fail(name, "user", service["user"], "s6-overlay images start as root and drop to PUID/PGID; "
                        "`user:` breaks their init", row, "user")
        if not user_env:
            report.fail(name, "user_env", False, "s6-overlay images run as PUID/PGID from the environment; without "
                        "them the app runs as 911 and cannot use the household's appdata", row, "user")
    elif model == "puid-env":
        if not (has_user or user_env):
            report.fail(name, "user_env", False, "the entrypoint chowns to PUID:PGID (default %s): give PUID/PGID or "
                        "`user:`" % user.get("uid"), row, "user")
    elif model in ("fixed", "any"):
        if writes_household and not has_user:
            report.fail(name, "user", None, "the image runs as %s unless told otherwise and writes the household's "
                        "%s: give `user: <puid>:<pgid>`" % (user.get("uid"), writes_household[0]["source"]), row, "user")
        if user_env:
            report.fail(name, "user_env", True, "the image does not take PUID/PGID (model %s)" % model, row, "user")
    elif model == "root":
        if has_user or user_env:
            report.fail(name, "user", service.get("user") or "PUID", "the image must run as root (model root)", row, "user")
    for chown in row["startup"].get("chown") or []:
        if chown.get("when") == "root" and model not in ("s6", "puid-env") and not has_user:
            report.fail(name, "user", None, "started as root the entrypoint chowns %s to %s, and the playbook chowns it "
                        "back on the next run: give `user:`" % (chown.get("path"), chown.get("to")), row, "startup")

    # Probe.
    probe, listen = row["probe"], row["listen"]
    check = service.get("healthcheck") or {}
    for command in _probe_commands(check.get("test")):
        used = [tool for tool in PROBE_TOOLS if re.search(r"(^|[\s;|&(])%s(\s|$)" % re.escape(tool), command)]
        if not used:
            report.fail(name, "healthcheck.test", command, "uses no tool this test knows (%s)" % ", ".join(PROBE_TOOLS),
                        row, "probe")
        for tool in used:
            if not set(PROBE_TOOLS[tool]) & set(probe.get("tools") or []):
                report.fail(name, "healthcheck.test", command, "%s is not in the image (tools: %s)"
                            % (tool, ", ".join(probe.get("tools") or []) or "none"), row, "probe")
        for host, port in re.findall(r"https?://(\[[^\]]*\]|[^/:\s'\"]+)(?::([0-9]+))?", command):
            if host != "127.0.0.1":
                report.fail(name, "healthcheck.test", command, "probes %s: Docker >= 26 maps localhost to ::1 first and "
                            "busybox wget does not fall back; probe 127.0.0.1" % host, row, "probe")
            if listen.get("family") not in ("ipv4", "dual"):
                report.fail(name, "healthcheck.test", command, "the server does not listen on IPv4 (family %s)"
                            % listen.get("family"), row, "listen")
            ports = set(int(p) for p in listen.get("ports") or []) | set(
                int(p) for p in (entry.get("port"), (entry.get("metrics") or {}).get("port")) if p)
            if int(port or 80) not in ports:
                report.fail(name, "healthcheck.test", command, "port %s is none the server listens on (%s)"
                            % (port or 80, ", ".join(str(p) for p in sorted(ports))), row, "listen")
    if check.get("test") and not (probe.get("tools") or []):
        report.fail(name, "healthcheck.test", check["test"], "the image has no tool to probe with", row, "probe")

    # Writable paths under read_only.
    if service.get("read_only"):
        for path in row["writable"].get("paths") or []:
            if not _covered(path, service):
                report.fail(name, "tmpfs", service.get("tmpfs") or [], "read_only, but the image writes %s at start: "
                            "add it to tmpfs" % path, row, "writable")

    # Environment.
    env_fact = row["env"]
    known = set(env_fact.get("names") or []) | set(env_fact.get("ignored") or [])
    for key, value in sorted((service.get("environment") or {}).items()):
        if key not in known and not any(re.search(p, key) for p in env_fact.get("patterns") or []):
            report.fail(name, "environment", key, "the image reads no such variable (names: %s; patterns: %s)"
                        % (", ".join(sorted(known)) or "none", ", ".join(env_fact.get("patterns") or []) or "none"),
                        row, "env")
        for placeholder in re.findall(r"\$\{([A-Z0-9_]+)\}", "%s" % value):
            spec = specs_by_placeholder.get(placeholder)
            if spec is None:
                continue
            consumers = [(k, v) for k, v in (row.get("secrets") or {}).items()
                         if k.startswith("env:") and fnmatch.fnmatchcase(key, k[4:])]
            if not consumers:
                report.fail(name, "environment", key, "carries the secret %s but the image's row says nothing about "
                            "the format it accepts there (secrets.env:%s)" % (spec["term"], key), row, "secrets")
            for consumer_key, consumer in consumers:
                _check_secret_against(report, name, "secret %s (env %s)" % (spec["term"], key), spec,
                                      consumer, row, "secrets." + consumer_key)

    if sidecar:
        return
    # The image's own secrets, and other apps' secrets it is given through the wiring or a seed.
    for spec in [s for s in specs if s["service"] == name]:
        own = (row.get("secrets") or {}).get(spec["name"])
        if own is None:
            report.fail(name, "secrets.%s" % spec["name"], spec["format"], "the image's row does not say which format "
                        "it accepts (secrets.%s)" % spec["name"], row, "secrets")
        else:
            _check_secret_against(report, name, "secrets.%s.pattern" % spec["name"], spec, own, row,
                                  "secrets." + spec["name"])
    needed = set()
    if entry.get("wiring") in WIRED_CONSUMERS:
        needed.add(WIRED_CONSUMERS[entry["wiring"]])
    for seed in entry.get("seeds") or []:
        with open(os.path.join(SEEDS, seed["template"])) as handle:
            if "stack_secrets[" in handle.read():
                needed.add("servarr/api_key")
    for link in sorted(needed):
        consumer = (row.get("secrets") or {}).get("link:" + link)
        if consumer is None:
            report.fail(name, "secrets", "link:" + link, "the app is given other apps' %s but its row does not say "
                        "which format it accepts" % link, row, "secrets")
            continue
        kind, secret = link.split("/")
        for target in resolved:
            if (target.get("api") or {}).get("kind") != kind:
                continue
            for spec in [s for s in specs if s["service"] == target["name"] and s["name"] == secret]:
                _check_secret_against(report, name, "%s's %s (given through the wiring or a seed)" % (target["name"], secret),
                                      spec, consumer, row, "secrets.link:" + link)


def check_project(label, shipped, enabled, overrides, facts):
    report = Report(label)
    resolved = catalog_resolve(shipped, [n for n in enabled if n in shipped], overrides, APPDATA, DATA,
                               HOUSEHOLD["household_domain"])
    specs = stack_secret_specs(resolved)
    for spec in specs:
        if not spec["pattern"]:
            report.problems.append("[%s] %s secrets.%s has no pattern: give the regular expression every consumer accepts"
                                   % (label, spec["service"], spec["name"]))
            continue
        plain = [make_secret(spec["format"]) for _ in range(200)]
        matching = len([v for v in plain if re.search(spec["pattern"], v)])
        if matching < 190:
            report.problems.append("[%s] %s secrets.%s: generate %s makes values like %r, which pattern %s refuses "
                                   "(%d of 200 match): make the format and the pattern agree"
                                   % (label, spec["service"], spec["name"], spec["format"], plain[0], spec["pattern"], matching))
    by_placeholder = dict((s["placeholder"], s) for s in specs)
    by_name = dict((e["name"], e) for e in resolved)
    services = stack_compose(resolved, OPTIONS)["services"]
    for name, service in sorted(services.items()):
        if name in by_name:
            check_service(report, name, service, by_name[name], facts, by_placeholder, specs, resolved)
        else:
            owner = next(e for e in resolved if name == "%s-exporter" % e["name"])
            check_service(report, name, service, {"metrics": owner.get("metrics")}, facts, by_placeholder, specs,
                          resolved, sidecar=True)
    return report.problems


FACTS = load_facts()
SHIPPED = load_shipped()
OVERRIDES = override_sets()


def test_every_fact_has_a_source():
    problems = []
    for repo, row in sorted(FACTS.items()):
        for key in ("tags", "user", "probe", "listen", "writable", "env", "startup"):
            if _src(row.get(key)) == "NO SOURCE":
                problems.append("%s: %s has no source {repo, path, ref}" % (repo, key))
        for key, fact in sorted((row.get("secrets") or {}).items()):
            if _src(fact) == "NO SOURCE" or not fact.get("pattern"):
                problems.append("%s: secrets.%s needs a pattern and a source" % (repo, key))
        if (row.get("user") or {}).get("model") not in USER_MODELS:
            problems.append("%s: user.model %r is not one of %s" % (repo, (row.get("user") or {}).get("model"), USER_MODELS))
    assert not problems, "\n".join(problems)


def test_the_shipped_catalog_conforms_to_its_images():
    problems = check_project("shipped catalog", SHIPPED, sorted(SHIPPED), {}, FACTS)
    assert not problems, "\n".join(problems)


def test_the_repository_has_test_overrides_to_check():
    """The scan must find the stack scenario's overrides, or the next test checks nothing."""
    files = set(where for where, _, _ in OVERRIDES)
    assert "molecule/stack/molecule.yml" in files or "tests/images/overrides.yml" in files, files


@pytest.mark.parametrize("where, enabled, overrides", OVERRIDES,
                         ids=["%s#%d" % (w, i) for i, (w, _, _) in enumerate(OVERRIDES)])
def test_every_test_override_conforms_to_its_images(where, enabled, overrides):
    rendered = _render(overrides, HOUSEHOLD)
    names = sorted(set(enabled or []) | set(rendered)) if enabled else sorted(set(SHIPPED))
    problems = check_project(where, SHIPPED, names, rendered, FACTS)
    assert not problems, "\n".join(problems)
