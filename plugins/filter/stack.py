# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compose project of a household, built from the resolved catalog (plugins/filter/catalog.py).

Python rather than a Jinja template so that the rules (what is published where, which environment each image
gets, how secrets reach a container without being written into compose.yml) are unit-tested in one place:
tests/unit/plugins/filter/test_stack.py. Nothing here names a service: everything comes from catalog fields.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import hmac
import ipaddress
import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common._collections_compat import Mapping
from ansible.module_utils.six import string_types

from ansible_collections.monsterr.mediaserver.plugins.plugin_utils._data import plain as _plain
from ansible_collections.monsterr.mediaserver.plugins.plugin_utils._problems import problem as _problem

_DURATION_RE = re.compile(r"^([0-9]+(ns|us|ms|s|m|h))+$")
_ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _escape(value):
    """Compose interpolates ${VAR} and $VAR everywhere; a literal $ must be written $$."""
    if isinstance(value, string_types):
        return value.replace("$", "$$")
    if isinstance(value, list):
        return [_escape(v) for v in value]
    if isinstance(value, dict):
        return dict((k, _escape(v)) for k, v in value.items())
    return value


def _str(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return "%s" % value


def secret_variable(service, name):
    """The compose interpolation variable (in the project's .env) that carries one secret."""
    return re.sub(r"[^A-Z0-9]", "_", ("%s_%s" % (service, name)).upper())


def vault_variable(service, name):
    """The inventory variable that overrides one generated secret."""
    return "vault_%s_%s" % (re.sub(r"[^a-z0-9]", "_", service), name)


def stack_secret_specs(resolved):
    """One dict per generated secret of the enabled services, in a stable order."""
    specs = []
    for entry in resolved or []:
        for name, spec in sorted((entry.get("secrets") or {}).items()):
            if not isinstance(spec, Mapping) or not spec.get("generate"):
                continue
            specs.append({
                "service": entry["name"], "name": name, "term": "%s/%s" % (entry["name"], name),
                "format": spec["generate"], "pattern": spec.get("pattern") or "",
                "variable": vault_variable(entry["name"], name),
                "env": spec.get("env") or "", "placeholder": secret_variable(entry["name"], name),
            })
    return specs


def stack_secrets_dict(specs, values):
    """{service: {name: value}} from the specs and the looked-up values (same order)."""
    if len(specs) != len(values):
        raise AnsibleFilterError("stack_secrets_dict: %d specs for %d values" % (len(specs), len(values)))
    out = {}
    for spec, value in zip(specs, values):
        out.setdefault(spec["service"], {})[spec["name"]] = value
    return out


def _healthcheck(check, options):
    test = check.get("test")
    if not test:
        return None
    out = {"test": _escape(_plain(test))}
    for key in ("interval", "timeout", "retries", "start_period"):
        value = check.get(key, options.get("healthcheck_" + key))
        if value not in (None, ""):
            out[key] = int(value) if key == "retries" else _str(value)
    start_interval = check.get("start_interval", options.get("healthcheck_start_interval"))
    if start_interval and options.get("start_interval_supported", True):
        out["start_interval"] = _str(start_interval)
    return out


def _volumes(entry):
    out = []
    for volume in entry.get("volumes") or []:
        out.append({"type": "bind", "source": _escape(volume["source"]), "target": volume["target"],
                    "read_only": bool(volume.get("read_only")), "bind": {"create_host_path": False}})
    return out


def _ports(entry, options):
    out = []
    for publish in entry.get("publish") or []:
        out.append({"target": int(publish["container_port"]), "published": _str(int(publish["host_port"])),
                    "protocol": publish.get("protocol", "tcp")})
    if entry.get("host_loopback") and entry.get("host_port"):
        out.append({"target": int(entry["port"]), "published": _str(int(entry["host_port"])), "protocol": "tcp",
                    "host_ip": options.get("host_ip", "127.0.0.1")})
    return out


def _subnet(subnet):
    try:
        return ipaddress.ip_network(u"%s" % subnet, strict=True)
    except ValueError as exc:
        raise AnsibleFilterError("stack_subnet = %r is not an IPv4 network (%s). Fix: e.g. 10.223.0.0/24" % (subnet, exc))


def stack_dynamic_range(subnet):
    """The part of subnet Docker hands out to containers without a fixed address: its upper half.

    Docker gives dynamic addresses in order from the start of the range; were the fixed ones inside it, a container
    started before the one with the fixed address could take that address, which then fails to start ("Address
    already in use"). So fixed addresses (catalog ``address``) live in the lower half, dynamic ones in the upper.
    '' without a subnet."""
    if not subnet:
        return ""
    network = _subnet(subnet)
    return "%s" % list(network.subnets(prefixlen_diff=1))[1]


def stack_addresses(resolved, subnet):
    """{service: IPv4 address} of the services with a fixed ``address`` (host number) in the lower half of subnet
    (the upper half is Docker's, see stack_dynamic_range).

    Empty when subnet is empty (no fixed subnet: no fixed addresses either)."""
    if not subnet:
        return {}
    network = _subnet(subnet)
    highest = network.num_addresses // 2 - 1
    out = {}
    for entry in resolved or []:
        number = entry.get("address")
        if number in (None, ""):
            continue
        try:
            address = network.network_address + int(number)
        except (TypeError, ValueError, ipaddress.AddressValueError):
            address = None
        if address is None or not 2 <= int(address) - int(network.network_address) <= highest:
            raise AnsibleFilterError("%s address = %r is not a host number of the fixed half of stack_subnet %s (2 .. %d; "
                                     "1 is the gateway, the upper half Docker's). Fix: catalog_overrides.%s.address, or a "
                                     "larger stack_subnet" % (entry["name"], number, subnet, highest, entry["name"]))
        out[entry["name"]] = "%s" % address
    return out


def _common(options, address=None):
    network = options.get("network", "monsterr")
    out = {
        "restart": options.get("restart", "unless-stopped"),
        "security_opt": ["no-new-privileges:true"],
        "networks": {network: {"ipv4_address": address}} if address else [network],
    }
    if options.get("log_driver", "json-file"):
        out["logging"] = {"driver": options.get("log_driver", "json-file")}
        if out["logging"]["driver"] in ("json-file", "local"):
            out["logging"]["options"] = {"max-size": _str(options.get("log_max_size", "10m")),
                                         "max-file": _str(options.get("log_max_file", 3))}
    return out


def _link_values(link, entry, target, index, specs, data_target):
    """The environment one catalog ``links`` item gives entry for one linked app (target), or None when the app
    lacks a secret the link needs."""
    api = target.get("api") or {}
    url = (target.get("internal_url") or "") + (api.get("url_base") or "")
    out = {}
    for key, template in sorted((link.get("environment") or {}).items()):
        name = ("%s" % key).replace("{APP}", ("%s" % (api.get("app") or target["name"])).upper()).replace(
            "{INDEX}", "%d" % index)
        value = "%s" % template
        for secret in re.findall(r"\{secret:([a-z0-9_]+)\}", value):
            found = [s for s in specs if s["service"] == target["name"] and s["name"] == secret]
            if not found:
                return None
            value = value.replace("{secret:%s}" % secret, "${%s}" % found[0]["placeholder"])
        value = value.replace("{url}", _escape(url)).replace("{data}", _escape(data_target))
        out[name] = value
    return out


def stack_links(entry, resolved, specs, data_root="/data"):
    """(environment, [linked service names]) of entry's catalog ``links``: one group of variables per enabled app
    of the link's kind and apps, numbered per app from 0 in name order."""
    env, linked = {}, []
    data_target = next((v["target"] for v in entry.get("volumes") or []
                        if "%s" % v.get("source", "").rstrip("/") == ("%s" % data_root).rstrip("/")), "/data")
    for link in entry.get("links") or []:
        apps = list(link.get("apps") or [])
        counters = {}
        for target in sorted(resolved or [], key=lambda e: e["name"]):
            api = target.get("api") or {}
            if target["name"] == entry["name"] or api.get("kind") != link.get("kind"):
                continue
            app = api.get("app") or target["name"]
            if apps and app not in apps:
                continue
            values = _link_values(link, entry, target, counters.get(app, 0), specs, data_target)
            if values is None:
                continue
            counters[app] = counters.get(app, 0) + 1
            env.update(values)
            linked.append(target["name"])
    return env, linked


def _environment(entry, options, specs, resolved=None, addresses=None):
    env = {}
    if entry.get("user_env"):
        env.update({"PUID": _str(options["puid"]), "PGID": _str(options["pgid"]), "TZ": options["timezone"],
                    "UMASK": _str(options.get("umask", "002"))})
    for key, value in sorted((entry.get("environment") or {}).items()):
        env[key] = _escape(_str(value if value is not None else ""))
    for spec in specs:
        if spec["service"] == entry["name"] and spec["env"]:
            env[spec["env"]] = "${%s}" % spec["placeholder"]
    # The fixed address of another service (e.g. the proxy Grafana trusts); 127.0.0.1 (nobody from outside the
    # container) when that service has none, so a trust list never falls open.
    for key, service in sorted((entry.get("address_env") or {}).items()):
        env[key] = (addresses or {}).get(service) or "127.0.0.1"
    links = stack_links(entry, resolved or [], specs, options.get("data_root", "/data"))[0]
    env.update(links)
    return env


def stack_compose(resolved, options):
    """The compose project (a dict for to_nice_yaml) of the resolved services.

    options: project, network, subnet, data_root, puid, pgid, timezone, umask, restart, log_driver, log_max_size,
    log_max_file, healthcheck_interval/timeout/retries/start_period/start_interval, start_interval_supported, host_ip.
    Secrets appear only as ${VARIABLE} references to the project's .env (see stack_secret_specs).
    """
    if not isinstance(options, Mapping):
        raise AnsibleFilterError("stack_compose: options must be a dict")
    options = _plain(options)
    resolved = [_plain(e) for e in resolved or []]
    specs = stack_secret_specs(resolved)
    enabled = set(e["name"] for e in resolved)
    healthy = set(e["name"] for e in resolved if (e.get("healthcheck") or {}).get("test"))
    addresses = stack_addresses(resolved, options.get("subnet") or "")
    services = {}
    for entry in resolved:
        name = entry["name"]
        service = {"image": entry["image"], "container_name": name}
        service.update(_common(options, addresses.get(name)))
        if entry.get("command"):
            service["command"] = _escape([_str(c) for c in entry["command"]])
        environment = _environment(entry, options, specs, resolved, addresses)
        if environment:
            service["environment"] = environment
        volumes = _volumes(entry)
        if volumes:
            service["volumes"] = volumes
        ports = _ports(entry, options)
        if ports:
            service["ports"] = ports
        check = _healthcheck(entry.get("healthcheck") or {}, options)
        if check:
            service["healthcheck"] = check
        # Images that do not take PUID/PGID but must read and write the household's appdata (0750, owned by
        # the household's account) run as that account: user "<uid>:<gid>".
        if entry.get("user") not in (None, ""):
            service["user"] = _str(entry["user"])
        if entry.get("read_only"):
            service["read_only"] = True
        if entry.get("tmpfs"):
            service["tmpfs"] = list(entry["tmpfs"])
        if entry.get("capabilities"):
            service["cap_add"] = list(entry["capabilities"])
        linked = stack_links(entry, resolved, specs, options.get("data_root", "/data"))[1]
        depends = dict((dep, {"condition": "service_healthy" if dep in healthy else "service_started"})
                       for dep in list(entry.get("depends_on") or []) + linked if dep in enabled)
        if depends:
            service["depends_on"] = depends
        services[name] = service

        metrics = entry.get("metrics") or {}
        if metrics.get("exporter") == "exportarr" and metrics.get("image"):
            api = entry.get("api") or {}
            sidecar = {"image": metrics["image"], "container_name": "%s-exporter" % name}
            sidecar.update(_common(options))
            sidecar["command"] = [api.get("app") or name]
            sidecar["environment"] = {"PORT": _str(metrics.get("port", 9707)),
                                      "URL": _escape(entry.get("internal_url", "") + (api.get("url_base") or ""))}
            key = [s for s in specs if s["service"] == name and s["name"] == "api_key"]
            if key:
                sidecar["environment"]["APIKEY"] = "${%s}" % key[0]["placeholder"]
            sidecar["read_only"] = True
            sidecar["depends_on"] = {name: {"condition": "service_started"}}
            services[sidecar["container_name"]] = sidecar
    network = options.get("network", "monsterr")
    definition = {"name": network, "driver": "bridge"}
    if options.get("subnet"):
        definition["ipam"] = {"config": [{"subnet": "%s" % options["subnet"],
                                          "ip_range": stack_dynamic_range(options["subnet"])}]}
    return {"name": options.get("project", "monsterr"), "services": services, "networks": {network: definition}}


def stack_env_file(specs, secrets):
    """The project's .env: one VARIABLE='value' line per secret (single quotes: no expansion)."""
    lines = []
    for spec in specs:
        value = secrets[spec["service"]][spec["name"]]
        lines.append("%s='%s'" % (spec["placeholder"], value))
    return "\n".join(lines) + ("\n" if lines else "")


def stack_directory_overrides(resolved, appdata_root):
    """{source: {owner, group, mode}} for appdata volume sources whose catalog entry sets any of the three: a
    directory another layer shares (the proxy's ACME webroot, written by certbot as root, read by nginx)."""
    out = {}
    root = appdata_root.rstrip("/") + "/"
    for entry in resolved or []:
        for volume in entry.get("volumes") or []:
            attrs = dict((k, _str(volume[k])) for k in ("owner", "group", "mode") if volume.get(k) not in (None, ""))
            if attrs and volume.get("source", "").startswith(root):
                out[volume["source"]] = attrs
    return out


def stack_seeds(resolved, appdata_root):
    """The seed files of the enabled services: [{service, template, dest}] with absolute dest paths."""
    out = []
    for entry in resolved or []:
        for seed in entry.get("seeds") or []:
            out.append({"service": entry["name"], "template": seed["template"],
                        "dest": "%s/%s/%s" % (appdata_root.rstrip("/"), entry["name"], seed["dest"].lstrip("/"))})
    return out


def stack_problems(resolved, where="inventories/<household>/group_vars/mediaserver/main.yml"):
    """What the stack cannot render, one line each, all at once (preflight runs it; the household's secrets are
    checked there too, by secret_problems in plugins/filter/preflight.py)."""
    problems = []
    for entry in resolved or []:
        name = entry["name"]
        override = "catalog_overrides.%s" % name
        environment = entry.get("environment") or {}
        if not isinstance(environment, Mapping):
            problems.append(_problem(override + ".environment", environment, "is not a dict", "give NAME: value pairs", where))
            environment = {}
        for key in environment:
            if not _ENV_RE.match("%s" % key):
                problems.append(_problem("%s.environment.%s" % (override, key), environment[key], "has a name that is not an "
                                         "environment variable", "letters, digits and _ only", where))
        api = entry.get("api") or {}
        url_base = api.get("url_base") or ""
        for key, value in environment.items():
            if "%s" % key == "%s__SERVER__URLBASE" % (api.get("app") or name).upper() and (value or "") != url_base:
                problems.append(_problem("%s.environment.%s" % (override, key), value, "differs from api.url_base = %r" % url_base,
                                         "set both to the same URL base", where))
            if "%s" % key == "%s__SERVER__PORT" % (api.get("app") or name).upper() and "%s" % value != "%s" % entry.get("port"):
                problems.append(_problem("%s.environment.%s" % (override, key), value, "differs from port = %r" % entry.get("port"),
                                         "set both to the same port", where))
        check = entry.get("healthcheck") or {}
        for key in ("interval", "timeout", "start_period", "start_interval"):
            if check.get(key) not in (None, "") and not _DURATION_RE.match("%s" % check[key]):
                problems.append(_problem("%s.healthcheck.%s" % (override, key), check[key], "is not a duration",
                                         "e.g. 30s or 1m30s", where))
        for seed in entry.get("seeds") or []:
            if not isinstance(seed, Mapping) or not seed.get("template") or not seed.get("dest") \
                    or ".." in ("%s/%s" % (seed.get("template"), seed.get("dest"))).split("/"):
                problems.append(_problem(override + ".seeds", seed, "has a seed that is not {template, dest} inside the app",
                                         "{template: <file under roles/stack/templates/seeds>, dest: <path inside the app's "
                                         "appdata>}", where))
    return problems


def qbittorrent_pbkdf2(password, iterations=100000):
    """qBittorrent's WebUI\\Password_PBKDF2 value: PBKDF2-HMAC-SHA512, 16-byte salt, 64-byte key.

    The salt is derived from the password (HMAC-SHA256 under a fixed label), so the value is the same on every
    run and the seed never changes by itself; the password is a random household secret of >= 32 bytes, so the
    salt is unique per household all the same.
    """
    secret = password.encode("utf-8")
    salt = hmac.new(secret, b"monsterr.mediaserver qBittorrent WebUI salt", hashlib.sha256).digest()[:16]
    key = hashlib.pbkdf2_hmac("sha512", secret, salt, int(iterations), dklen=64)
    return "@ByteArray(%s:%s)" % (base64.b64encode(salt).decode("ascii"), base64.b64encode(key).decode("ascii"))


class FilterModule(object):
    def filters(self):
        return {
            "stack_secret_specs": stack_secret_specs,
            "stack_secrets_dict": stack_secrets_dict,
            "stack_compose": stack_compose,
            "stack_addresses": stack_addresses,
            "stack_dynamic_range": stack_dynamic_range,
            "stack_env_file": stack_env_file,
            "stack_seeds": stack_seeds,
            "stack_directory_overrides": stack_directory_overrides,
            "stack_problems": stack_problems,
            "qbittorrent_pbkdf2": qbittorrent_pbkdf2,
        }
