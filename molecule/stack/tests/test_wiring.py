"""Verify the wiring layer by asking the apps' APIs (through 127.0.0.1 on the instance) and by trying the written
addresses from inside the containers; then re-converge from the controller: a no-op run writes nothing and reads
each resource kind at most twice per app (counted by the Servarr, Bazarr and Overseerr doubles, GET
/__double__/stats), and a field changed behind the modules' back is shown by --check --diff and restored with
exactly one write. qBittorrent and NZBGet are the real programs (their config files must not be rewritten by a
no-op run). Leaves the household as it found it."""

import json
import re

import pytest

from helpers import all_secrets, changed_tasks, converge, entry, exporters, http, secret, servarr_apps

QBT = "http://127.0.0.1:8080/api/v2"
NZBGET = "http://127.0.0.1:6789/jsonrpc"
CATEGORIES = ["tv", "movies", "music", "books", "audiobooks"]
# The Servarr apps of the scenario: {app: (api version, host port)}.
SERVARR = dict((name, (entry(name)["api"]["version"], int(entry(name)["host_url"].rsplit(":", 1)[1])))
               for name in servarr_apps())
MEDIA = {"sonarr": ("tvCategory", "tv"), "radarr": ("movieCategory", "movies")}
DOWNLOADERS = {"qbittorrent": ("QBittorrent", 8080, "admin"), "nzbget": ("Nzbget", 6789, "nzbget")}
PROWLARR_CATEGORY = "prowlarr"
# The resource kinds the wiring reads and writes (Overseerr's connection test reads qualityprofile and rootfolder
# of Sonarr and Radarr); anything else the doubles count (health checks, the other tests' status reads) is not
# the wiring's.
WIRED_KINDS = ("downloadclient", "rootfolder", "config/mediamanagement", "applications", "qualityprofile",
               "system/settings", "settings/sonarr", "settings/radarr")
WRITES = ("POST", "PUT", "DELETE")
# Bazarr and Overseerr (the companions image): {app: (port, API prefix)}.
COMPANIONS = {"bazarr": (6767, "/api/"), "overseerr": (5055, "/api/v1/")}


def api(host, app, path, *args):
    version, port = SERVARR[app]
    status, body = http(host, "http://127.0.0.1:%d/api/%s/%s" % (port, version, path),
                        "-H 'X-Api-Key: %s'" % secret(app, "api_key"), *args)
    assert status in (200, 202), (app, path, status, body[:300])
    return json.loads(body) if body.strip() else None


def fields(provider):
    return dict((f["name"], f.get("value")) for f in provider["fields"])


def by_name(items):
    return dict((i["name"], i) for i in items)


def qbittorrent(host, path):
    cookies = "-c /tmp/wiring-qbt -b /tmp/wiring-qbt"
    status, body = http(host, QBT + "/auth/login", cookies, "--data-urlencode username=admin",
                        "--data-urlencode 'password=%s'" % secret("qbittorrent", "password"))
    assert (status, body.strip()) == (200, "Ok."), body
    status, body = http(host, QBT + path, cookies)
    assert status == 200, body
    return json.loads(body)


def nzbget(host, method):
    status, body = http(host, NZBGET, "-u 'nzbget:%s'" % secret("nzbget", "password"),
                        "-d '{\"method\": \"%s\", \"params\": [], \"id\": 1}'" % method)
    assert status == 200, body
    return dict((o["Name"], o["Value"]) for o in json.loads(body)["result"])


def in_container(host, name, command, user=None):
    return host.run("docker exec %s %s sh -c %s" % ("-u %s" % user if user else "", name,
                                                      "'%s'" % command.replace("'", "'\\''")))


def kind_of(path):
    """The resource kind of an API path: /api/v3/downloadclient/schema -> downloadclient, /api/system/settings ->
    system/settings (Bazarr), /api/v1/settings/sonarr/test -> settings/sonarr (Overseerr)."""
    rest = re.sub(r"^/api/(v\d+/)?", "", path)
    parts = rest.split("/")
    return "/".join(parts[:2]) if parts[0] in ("config", "system", "settings") else parts[0]


def counts(host):
    """{app: {kind: [reads, writes]}} of the wired resource kinds since the doubles' last reset. Overseerr's
    connection test is a POST that writes nothing: a read.

    The app's exportarr sidecar reads too, on every Prometheus scrape: system/status, health and (Sonarr, Radarr)
    rootfolder, once each (tests/doubles/exportarr.py, as exportarr's collectors). The wiring never reads health, so
    the health count is the number of scrapes, and that many rootfolder reads are the sidecar's, not the wiring's."""
    out = {}
    ports = dict((app, port) for app, (_version, port) in SERVARR.items())
    ports.update((app, port) for app, (port, _prefix) in COMPANIONS.items())
    for app, port in sorted(ports.items()):
        status, body = http(host, "http://127.0.0.1:%d/__double__/stats" % port)
        assert status == 200, body
        stats = json.loads(body)["requests"]
        seen = stats.items() if isinstance(stats, dict) else [("%s %s" % tuple(r), 1) for r in stats]
        for key, number in seen:
            method, path = key.split(" ", 1)
            kind = kind_of(path)
            if not path.startswith("/api/") or kind not in WIRED_KINDS:
                continue
            write = method in WRITES and not path.endswith("/test")
            cell = out.setdefault(app, {}).setdefault(kind, [0, 0])
            cell[1 if write else 0] += number
        scrapes = sum(n for key, n in stats.items() if re.match(r"^GET /api/v\d+/health$", key)) \
            if isinstance(stats, dict) and app in exporters() else 0
        if scrapes and "rootfolder" in out.get(app, {}):
            cell = out[app]["rootfolder"]
            cell[0] = max(0, cell[0] - scrapes)
            if cell == [0, 0]:
                del out[app]["rootfolder"]
    return out


def reset(host):
    ports = [port for _version, port in SERVARR.values()] + [port for port, _prefix in COMPANIONS.values()]
    for port in ports:
        assert http(host, "http://127.0.0.1:%d/__double__/reset" % port, "-X POST")[0] == 200


def writes(count):
    return dict(("%s %s" % (app, kind), c[1]) for app, kinds in count.items() for kind, c in kinds.items() if c[1])


def mtimes(host):
    paths = ("/opt/monsterr/nzbget/nzbget.conf", "/opt/monsterr/qbittorrent/qBittorrent/categories.json")
    return dict((p, host.file(p).mtime) for p in paths)


# ---- the first converge ended fully wired ------------------------------------------------------------------

FIRST = []


@pytest.fixture(scope="module", autouse=True)
def first_run_counted(host, bench):
    """Before this file's tests read anything: what the doubles counted since they started (the first converge
    and the no-op runs after it), for the benchmark. Once: the module is entered again for its tests marked
    changes_household, after the doubles were reset and restarted."""
    if not FIRST:
        bench("first", counts(host))
        FIRST.append(True)


@pytest.mark.parametrize("app", sorted(SERVARR))
def test_every_servarr_app_has_every_downloader_with_its_category(host, app):
    clients = by_name(api(host, app, "downloadclient"))
    assert sorted(clients) == sorted(DOWNLOADERS)
    category_field, category = MEDIA.get(app, ("category", PROWLARR_CATEGORY))
    for name, (implementation, port, username) in DOWNLOADERS.items():
        client = clients[name]
        values = fields(client)
        assert client["implementation"] == implementation and client["enable"] is True
        # The compose-network address, not the host's 127.0.0.1.
        assert (values["host"], values["port"], values["useSsl"]) == (name, port, False)
        assert values["username"] == username and values["password"] == "********"
        assert values[category_field] == category


@pytest.mark.parametrize("app, library", [("sonarr", "tv"), ("radarr", "movies")])
def test_every_arr_has_its_root_folder_under_the_data_tree(host, app, library):
    folders = [f["path"] for f in api(host, app, "rootfolder")]
    assert folders == ["/data/media/" + library]
    # The folder is real inside the app's container, and the app's user (PUID 2000) can write there.
    assert in_container(host, app, "test -d /data/media/%s -a -w /data/media/%s" % (library, library), "2000:2000").rc == 0


@pytest.mark.parametrize("app, library", [("sonarr", "tv"), ("radarr", "movies")])
def test_media_management_imports_by_hardlink_and_a_hardlink_really_works(host, app, library):
    settings = api(host, app, "config/mediamanagement")
    assert settings["copyUsingHardlinks"] is True
    assert (settings["importExtraFiles"], settings["extraFileExtensions"]) == (True, "srt")
    # What a hardlink import needs: the downloader's completed file and the library on one filesystem as the
    # containers see them (one /data mount). qBittorrent writes a file, the app links it into its library.
    probe = ".wiring-hardlink-probe"
    source = "/data/downloads/torrents/%s/%s" % (library, probe)
    target = "/data/media/%s/%s" % (library, probe)
    try:
        assert in_container(host, "qbittorrent", "echo probe > %s" % source, "2000:2000").rc == 0
        linked = in_container(host, app, "ln %s %s && stat -c %%h %s" % (source, target, target), "2000:2000")
        assert linked.rc == 0 and linked.stdout.strip() == "2", linked.stderr
    finally:
        in_container(host, app, "rm -f %s %s" % (source, target), "2000:2000")


def test_prowlarr_feeds_every_arr_through_internal_urls(host):
    applications = by_name(api(host, "prowlarr", "applications"))
    assert sorted(applications) == sorted(MEDIA)
    for app in MEDIA:
        application = applications[app]
        values = fields(application)
        assert application["implementation"] == app.capitalize() and application["syncLevel"] == "fullSync"
        assert values["prowlarrUrl"] == "http://prowlarr:9696"
        assert values["baseUrl"] == "http://%s:%d" % (app, SERVARR[app][1])
        assert values["apiKey"] == "********"


def test_the_written_addresses_and_credentials_work_between_the_containers(host):
    """The doubles do not test connections on save: ask from inside the containers instead."""
    for app in MEDIA:
        # Prowlarr -> app, with the app's key, as Prowlarr's sync does.
        status = in_container(host, "prowlarr", "curl -s -o /dev/null -w %%{http_code} -H 'X-Api-Key: %s' "
                              "http://%s:%d/api/v3/system/status" % (secret(app, "api_key"), app, SERVARR[app][1]))
        assert status.stdout == "200", status.stdout
        # app -> Prowlarr, and app -> each downloader with the credentials of its download client.
        assert in_container(host, app, "curl -s -o /dev/null -w %{http_code} http://prowlarr:9696/ping").stdout == "200"
        login = in_container(host, app, "curl -s --data-urlencode username=admin --data-urlencode 'password=%s' "
                             "http://qbittorrent:8080/api/v2/auth/login" % secret("qbittorrent", "password"))
        assert login.stdout == "Ok.", login.stdout
        version = in_container(host, app, "curl -s -u 'nzbget:%s' -d '{\"method\": \"version\", \"params\": []}' "
                               "http://nzbget:6789/jsonrpc" % secret("nzbget", "password"))
        assert json.loads(version.stdout)["result"] == "21.0", version.stdout


def test_qbittorrent_saves_into_the_data_tree_with_a_category_per_library(host):
    categories = qbittorrent(host, "/torrents/categories")
    assert sorted(categories) == sorted(CATEGORIES + [PROWLARR_CATEGORY])
    for name in CATEGORIES + [PROWLARR_CATEGORY]:
        assert categories[name]["savePath"] == "/data/downloads/torrents/" + name
    prefs = qbittorrent(host, "/app/preferences")
    assert (prefs["save_path"], prefs["temp_path_enabled"], prefs["temp_path"], prefs["auto_tmm_enabled"]) == \
        ("/data/downloads/torrents", True, "/data/downloads/torrents/incomplete", True)


def test_nzbget_saves_into_the_data_tree_with_a_category_per_library(host):
    written = nzbget(host, "loadconfig")
    running = nzbget(host, "config")
    names = CATEGORIES + [PROWLARR_CATEGORY]
    assert [written["Category%d.Name" % i] for i in range(1, len(names) + 1)] == names
    assert "Category%d.Name" % (len(names) + 1) not in written
    for index, name in enumerate(names, 1):
        assert written["Category%d.DestDir" % index] == "${DestDir}/" + name
        # Reloaded: the running NZBGet has them too, expanded.
        assert running["Category%d.DestDir" % index] == "/data/downloads/usenet/completed/" + name
    assert (written["MainDir"], written["DestDir"], written["InterDir"]) == \
        ("/data/downloads/usenet", "${MainDir}/completed", "${MainDir}/intermediate")
    assert (written["AppendCategoryDir"], written["KeepHistory"]) == ("yes", "30")


def test_bazarr_is_linked_to_sonarr_and_radarr_through_internal_urls(host):
    status, body = http(host, "http://127.0.0.1:6767/api/system/settings", "-H 'X-API-KEY: %s'" % secret("bazarr", "api_key"))
    assert status == 200, body
    settings = json.loads(body)
    for app in MEDIA:
        assert settings["general"]["use_" + app] is True
        link = settings[app]
        # Bazarr stores a base_url of "/" back as "" (its settings form).
        assert (link["ip"], link["port"], link["base_url"], link["ssl"]) == (app, SERVARR[app][1], "", False)
        assert link["apikey"] == secret(app, "api_key")


def test_overseerr_requests_go_to_sonarr_and_radarr_with_a_real_profile_and_root_folder(host):
    for app, (_category_field, library) in MEDIA.items():
        status, body = http(host, "http://127.0.0.1:5055/api/v1/settings/" + app,
                            "-H 'X-Api-Key: %s'" % secret("overseerr", "api_key"))
        assert status == 200, body
        [server] = json.loads(body)
        assert (server["name"], server["hostname"], server["port"], server["useSsl"], server["baseUrl"]) == \
            (app, app, SERVARR[app][1], False, "")
        # Looked up in the app itself through Overseerr's connection test (HD-1080p is id 4 on a fresh install).
        assert (server["activeProfileName"], server["activeProfileId"]) == ("HD-1080p", 4)
        assert server["activeDirectory"] == "/data/media/" + library
        assert server["isDefault"] is True and server["is4k"] is False
        assert server["apiKey"] == secret(app, "api_key")


# ---- re-converging: no-op, then drift (check mode first), both counted ----------------------------------------

def test_a_no_op_reconverge_writes_nothing_and_reads_each_kind_at_most_twice(host, bench):
    before = mtimes(host)
    reset(host)
    # The wiring layer alone (--tags wiring, as a user re-wires; the whole no-op run is Molecule's idempotence step),
    # with --diff: a converged household shows no difference and no secret.
    changed, output = converge("wiring no-op (--diff)", {}, "--tags", "wiring", "--diff")
    seen = counts(host)
    bench("noop", seen)
    print(json.dumps(seen, sort_keys=True))
    assert changed == 0, (changed_tasks(output), output[-2000:])
    assert writes(seen) == {}
    too_many = dict(("%s %s" % (app, kind), c[0]) for app, kinds in seen.items() for kind, c in kinds.items() if c[0] > 2)
    assert too_many == {}
    # Every app and kind was actually read (the run did look).
    assert sorted(seen) == sorted(list(SERVARR) + list(COMPANIONS))
    assert sorted(seen["sonarr"]) == ["config/mediamanagement", "downloadclient", "qualityprofile", "rootfolder"]
    assert sorted(seen["prowlarr"]) == ["applications", "downloadclient"]
    assert sorted(seen["overseerr"]) == ["settings/radarr", "settings/sonarr"]
    # The real downloaders: their config files were not rewritten.
    assert mtimes(host) == before
    assert not [s for s in all_secrets() if s in output]


@pytest.fixture()
def drifted(host):
    """Sonarr's qBittorrent client gets another category behind the modules' back (the app's own API)."""
    client = by_name(api(host, "sonarr", "downloadclient"))["qbittorrent"]
    for field in client["fields"]:
        if field["name"] == "tvCategory":
            field["value"] = "drifted"
    body = json.dumps(client)
    host.run("cat > /tmp/wiring-drift.json <<'EOF'\n%s\nEOF" % body)
    api(host, "sonarr", "downloadclient/%d" % client["id"], "-X PUT", "-H 'Content-Type: application/json'",
        "--data-binary @/tmp/wiring-drift.json")
    assert fields(by_name(api(host, "sonarr", "downloadclient"))["qbittorrent"])["tvCategory"] == "drifted"
    yield client["id"]
    host.run("rm -f /tmp/wiring-drift.json")


@pytest.mark.changes_household
def test_drift_is_shown_by_check_diff_and_restored_with_exactly_one_write(host, drifted, bench):
    reset(host)
    changed, output = converge("drift: check --diff", {}, "--tags", "wiring", "--check", "--diff")
    assert changed == 1, (changed_tasks(output), output[-2000:])
    assert writes(counts(host)) == {}
    # The report names what would change, without a secret.
    assert "sonarr, download clients: qbittorrent (fields.tvCategory)" in output
    assert "drifted" in output and not [s for s in all_secrets() if s in output]

    reset(host)
    changed, output = converge("drift: repair", {}, "--tags", "wiring")
    seen = counts(host)
    bench("drift", seen)
    assert changed == 1, (changed_tasks(output), output[-2000:])
    assert writes(seen) == {"sonarr downloadclient": 1}
    status, body = http(host, "http://127.0.0.1:8989/__double__/stats")
    assert json.loads(body)["requests"].get("PUT /api/v3/downloadclient/%d" % drifted) == 1
    assert fields(by_name(api(host, "sonarr", "downloadclient"))["qbittorrent"])["tvCategory"] == "tv"
    assert not [s for s in all_secrets() if s in output]


def test_the_doubles_keep_their_state_across_a_restart(host):
    """A recreated container (new image tag, test_changes.py) must find its wiring, as the apps keep their
    database in /config: the double keeps it in /config/servarr-double.json."""
    assert host.file("/opt/monsterr/sonarr/servarr-double.json").exists
    saved = json.loads(host.file("/opt/monsterr/sonarr/servarr-double.json").content_string)
    assert sorted(o["name"] for o in saved["store"]["downloadclient"].values()) == sorted(DOWNLOADERS)
    assert host.file("/opt/monsterr/sonarr/servarr-double.json").mode == 0o600
