# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every request and response body the modules and the double exchanged, checked against the upstream OpenAPI documents.

Independent of the double's own (standard-library) validator: this uses jsonschema on a conversion of the OpenAPI 3
schemas (``nullable`` -> a "null" type or anyOf, ``$ref`` into components/schemas) to JSON Schema 2020-12.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

import jsonschema
import pytest

from ansible_collections.monsterr.mediaserver.tests.doubles.arr_harness import api, conn, run_module
from ansible_collections.monsterr.mediaserver.tests.contracts import document
from ansible_collections.monsterr.mediaserver.tests.doubles.servarr import KNOWN_DELTAS, SPEC_FILES, Contract

CATEGORY = {"sonarr": "tvCategory", "radarr": "movieCategory", "lidarr": "musicCategory", "readarr": "musicCategory",
            "prowlarr": "category"}


def to_json_schema(node):
    """OpenAPI 3.0 schema object -> JSON Schema 2020-12 (nullable handled, refs kept)."""
    if isinstance(node, list):
        return [to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = dict((k, to_json_schema(v)) for k, v in node.items() if k not in ("readOnly", "writeOnly", "format"))
    nullable = node.pop("nullable", False)
    if "$ref" in node:
        ref = {"$ref": node.pop("$ref")}
        return {"anyOf": [ref, {"type": "null"}]} if nullable else ref
    if nullable:
        if "type" in node:
            node["type"] = [node["type"], "null"]
        elif "enum" not in node:
            pass  # no type: anything, null included
    return node


def validator_for(spec, schema):
    components = copy.deepcopy(spec["components"]["schemas"])
    for name, extra in KNOWN_DELTAS.items():
        if name in components:
            components[name]["properties"].update(extra)
    root = {"components": {"schemas": to_json_schema(components)}}
    root.update(to_json_schema(schema))
    return jsonschema.Draft202012Validator(root)


def exercise(servarr, capsys, app, tmp):
    double = servarr(app, url_base="/" + app)
    c = conn(double)
    for impl in ("QBittorrent", "Nzbget"):
        fields = {"host": impl.lower(), "username": "u", "password": "p", CATEGORY[app]: "x"}
        assert run_module(capsys, "arr_download_client", name=impl, implementation=impl, fields=fields, **c)["changed"]
        assert run_module(capsys, "arr_download_client", name=impl, implementation=impl, fields=dict(fields, port=1), **c)["changed"]
    run_module(capsys, "arr_download_client", name="x", implementation="QBittorrent", fields={"host": ""}, **c)  # 400
    run_module(capsys, "arr_info", **c)
    if app == "prowlarr":
        for impl in ("Sonarr", "Radarr", "Lidarr", "Readarr"):
            run_module(capsys, "prowlarr_application", name=impl, implementation=impl, app_api_key="k",
                       prowlarr_url="http://prowlarr:9696", base_url="http://%s:1" % impl.lower(), **c)
        run_module(capsys, "prowlarr_application", name="Sonarr", tags=[1], **c)
        run_module(capsys, "prowlarr_indexer", name="1337x", definition="1337x", **c)
        run_module(capsys, "prowlarr_indexer", name="nz", definition="Newznab", fields={"baseUrl": "https://n", "apiKey": "a"}, **c)
        run_module(capsys, "prowlarr_indexer", name="nz", priority=5, **c)
        run_module(capsys, "prowlarr_indexer", name="nz", state="absent", **c)
        api(double, "GET", "/indexer/schema")
        api(double, "GET", "/applications/schema")
    else:
        root = dict(path=tmp, name="Media") if app in ("lidarr", "readarr") else dict(path=tmp)
        run_module(capsys, "arr_root_folder", **dict(c, **root))
        if app in ("lidarr", "readarr"):
            run_module(capsys, "arr_root_folder", **dict(c, default_monitor_option="none", **root))
        run_module(capsys, "arr_remote_path_mapping", host="qb", remote_path="/dl", local_path=tmp, **c)
        run_module(capsys, "arr_remote_path_mapping", host="qb", remote_path="/dl", local_path=tmp + "/sub", **c)  # 400
        run_module(capsys, "arr_remote_path_mapping", host="qb", remote_path="/dl", state="absent", **c)
        run_module(capsys, "arr_media_management", settings={"copyUsingHardlinks": False}, **c)
        run_module(capsys, "arr_root_folder", state="absent", **dict(c, path=tmp))
        api(double, "GET", "/rootfolder")
    run_module(capsys, "arr_download_client", name="Nzbget", state="absent", **c)
    api(double, "GET", "/downloadclient/schema")
    return list(double.state.exchanges)


@pytest.mark.parametrize("app", sorted(SPEC_FILES))
def test_every_exchanged_body_matches_the_upstream_contract(servarr, capsys, tmp_path, app):
    with open(document("openapi/" + SPEC_FILES[app])) as handle:
        spec = json.load(handle)
    contract = Contract(spec)
    exchanges = exercise(servarr, capsys, app, str(tmp_path))
    checked = set()
    errors_seen = set()
    for ex in exchanges:
        path = ex["path"]
        if path == "/ping":
            continue
        template, op = contract.operation(ex["method"], path)
        assert op is not None, "the double served %s %s, which the %s contract does not have" % (ex["method"], path, app)
        if ex["request"] is not None and ex["method"] in ("POST", "PUT"):
            schema = contract.request_schema(ex["method"], path)
            problems = [e.message for e in validator_for(spec, schema).iter_errors(ex["request"])]
            assert not problems, "%s %s request: %s" % (ex["method"], path, problems[:3])
        status, body = ex["status"], ex["response"]
        if 200 <= status < 300:
            schema = contract.response_schema(ex["method"], path)
            if schema is not None and body is not None:
                problems = [e.message for e in validator_for(spec, schema).iter_errors(body)]
                assert not problems, "%s %s response: %s" % (ex["method"], path, problems[:3])
                checked.add("%s %s" % (ex["method"], template))
        elif status == 400:
            assert isinstance(body, list) and body and all("errorMessage" in f and "propertyName" in f for f in body), body
            errors_seen.add(400)
        elif status == 500:
            assert isinstance(body, dict) and body.get("message"), body
            errors_seen.add(500)
        assert {"POST": 201, "PUT": 202}.get(ex["method"], 200) == status or status >= 400, ex
    assert 400 in errors_seen
    assert len(checked) >= 8, sorted(checked)


def test_the_double_rejects_a_body_the_contract_rejects(servarr):
    double = servarr("sonarr")
    with pytest.raises(Exception) as caught:
        api(double, "POST", "/downloadclient", {"name": "q", "implementation": "QBittorrent", "configContract": "QBittorrentSettings",
                                                "enable": "yes", "fields": []})
    assert caught.value.status == 400 and "$.enable" in str(caught.value)
    with pytest.raises(Exception) as caught:
        api(double, "POST", "/remotepathmapping", {"host": "qb", "remotePath": "/a", "localPath": "/tmp", "hostname": "x"})
    assert caught.value.status == 400 and "hostname" in str(caught.value)
