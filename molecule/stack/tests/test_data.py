"""Re-run stability against the images' entrypoints: after converge and Molecule's idempotence run (changed=0, every
container started long before, every entrypoint that chowns has run), each app can still write its data and every
appdata directory belongs to whom the image's user model needs (the household's account; catalog volume owners where
another layer shares the directory). Also: Grafana trusts its auth-proxy header only from the proxy.

Facts relied on, from upstream:
- Redis saves with BGSAVE (a forked child writes dump.rdb into `dir`, /data in the official image); `--save 60 1`
  is the catalog's own command.
- Authelia appends every first-factor attempt to the authentication_logs table of its storage (SQLite here):
  authelia/authelia internal/regulation/regulator.go, Regulator.Mark -> AppendAuthenticationLog.
- Grafana's auth proxy answers 401 when the request's address is not in GF_AUTH_PROXY_WHITELIST:
  grafana/grafana pkg/services/authn/clients/proxy.go (errNotAcceptedIP = errutil.Unauthorized).
"""

import json
import time

import pytest

from helpers import (
    APPDATA, DOMAIN, READY, curl, entry, household_owner, project_containers, services, sign_in, states, wait_for,
    wait_ready)

GRAFANA = "grafana." + DOMAIN


def appdata_volumes():
    """[(service, host directory, expected 'uid:gid mode')] of every appdata volume of the enabled services: the
    catalog volume's owner/group/mode where it sets them, else the household's account and 0750."""
    out = []
    for name in services():
        for volume in entry(name).get("volumes") or []:
            if not volume["source"].startswith(APPDATA + "/"):
                continue
            owner, group = household_owner().split(":")
            out.append((name, volume["source"], volume.get("owner") or owner, volume.get("group") or group,
                        str(volume.get("mode") or "0750").lstrip("0")))
    return out


def ownership(host):
    """{path: 'uid:gid mode'} of everything under the appdata of the enabled services (one find)."""
    roots = " ".join(sorted(set(APPDATA + "/" + name for name in services())))
    out = {}
    for line in host.check_output("find %s -xdev -printf '%%U:%%G %%m %%p\\n' 2>/dev/null || true" % roots).splitlines():
        owner, mode, path = line.split(" ", 2)
        out[path] = "%s %s" % (owner, mode)
    return out


def numeric(host, name, kind):
    """uid (kind 'u') or gid (kind 'g') of a user/group name or number on the instance."""
    if str(name).isdigit():
        return str(name)
    return host.check_output("id -%s %s" % (kind, name) if kind == "u" else "getent group %s | cut -d: -f3" % name)


def redis_cli(host, *args):
    return host.check_output("docker exec redis redis-cli %s" % " ".join(args)).strip()


# ---- ownership ------------------------------------------------------------------------------------------

def test_every_appdata_directory_belongs_to_whom_the_image_needs(host):
    wrong = []
    for name, path, owner, group, mode in appdata_volumes():
        expected = "%s:%s %s" % (numeric(host, owner, "u"), numeric(host, group, "g"), mode)
        found = host.check_output("stat -c '%%u:%%g %%a' %s" % path)
        print("%-14s %-42s %s" % (name, path, found))
        if found != expected:
            wrong.append((path, found, expected))
    assert wrong == []


def test_no_entrypoint_handed_appdata_to_another_account(host):
    """Nothing under the appdata belongs to an image's own account (redis 999, nobody, grafana 472, root-only
    Authelia...): only the household's account, and root for what the playbook writes as root."""
    allowed = {"0", household_owner().split(":")[0]}
    foreign = dict((path, attrs) for path, attrs in ownership(host).items()
                   if attrs.split(" ")[0].split(":")[0] not in allowed)
    assert foreign == {}


@pytest.mark.changes_household
def test_restarting_every_container_changes_no_ownership(host):
    """Each entrypoint runs again (a reboot, an engine upgrade): nothing it does may undo the playbook's ownership,
    or the next run would change it back (and the run after that, ...)."""
    before = ownership(host)
    names = project_containers(host)
    host.check_output("cd %s/compose && docker compose restart --timeout 20" % APPDATA)
    found = wait_ready(host, names)
    assert dict((n, s) for n, s in found.items() if s not in READY) == {}
    after = ownership(host)
    flipped = dict((p, (before[p], after[p])) for p in before if p in after and before[p] != after[p])
    assert flipped == {}
    allowed = {"0", household_owner().split(":")[0]}
    new = dict((p, a) for p, a in after.items() if p not in before and a.split(" ")[0].split(":")[0] not in allowed)
    assert new == {}


# ---- each app writes its data ------------------------------------------------------------------------------

def test_redis_accepts_writes_and_saves_to_its_data_directory(host):
    # The catalog's own command: snapshots into /data (the appdata), every 60 s after a change.
    assert redis_cli(host, "CONFIG", "GET", "dir").splitlines() == ["dir", "/data"]
    assert redis_cli(host, "CONFIG", "GET", "save").splitlines() == ["save", "60 1"]
    before = int(redis_cli(host, "LASTSAVE"))
    time.sleep(1)   # LASTSAVE has a resolution of one second
    assert redis_cli(host, "SET", "monsterr:verify", str(int(time.time()))) == "OK"
    # SCHEDULE: when Redis' own `save 60 1` snapshot is running, ours follows it instead of being refused.
    assert redis_cli(host, "BGSAVE", "SCHEDULE") in ("Background saving started", "Background saving scheduled")
    info = wait_for(lambda: [i for i in [redis_cli(host, "INFO", "persistence")] if "rdb_bgsave_in_progress:0" in i
                             and int(redis_cli(host, "LASTSAVE")) > before], timeout=30)
    assert info, redis_cli(host, "INFO", "persistence")
    assert "rdb_last_bgsave_status:ok" in info[0], info[0]
    assert redis_cli(host, "DEL", "monsterr:verify") == "1"
    dump = host.file(APPDATA + "/redis/dump.rdb")
    assert dump.exists and "%d:%d" % (dump.uid, dump.gid) == household_owner()


def authentication_logs(host, username):
    """How many rows Authelia's SQLite storage has in authentication_logs for the user (read-only open)."""
    script = ("import sqlite3; db = sqlite3.connect('file:%s/authelia/db.sqlite3?mode=ro', uri=True); "
              "print(db.execute('SELECT COUNT(*) FROM authentication_logs WHERE username = ?', ('%s',)).fetchone()[0])"
              % (APPDATA, username))
    return int(host.check_output("python3 -c \"%s\"" % script))


def test_authelia_signs_a_user_in_and_writes_its_database(host, admin_session):
    database = host.file(APPDATA + "/authelia/db.sqlite3")
    assert database.exists, "Authelia's SQLite storage (storage.local.path) is missing"
    assert "%d:%d" % (database.uid, database.gid) == household_owner()
    before = authentication_logs(host, "alice")
    status, body, sid, _ = sign_in(host, "alice")
    assert status == 200 and sid, body
    assert authentication_logs(host, "alice") == before + 1


def test_prometheus_writes_its_data_directory(host):
    """Its WAL gets the scrapes of the last seconds (monitoring_scrape_interval), as the household's account."""
    fresh = wait_for(lambda: host.check_output("find %s/prometheus/data/wal -type f -newermt '-30 seconds' "
                                               "-printf '%%U:%%G %%p\\n'" % APPDATA), timeout=30)
    print(fresh)
    assert fresh, "no WAL segment written in the last 30 seconds"
    assert set(line.split(" ")[0] for line in fresh.splitlines()) == {household_owner()}


# ---- Grafana trusts Remote-User from the proxy only ---------------------------------------------------------

def test_grafana_refuses_remote_user_from_a_container_that_is_not_the_proxy(host):
    # Another container on the stack network (sonarr), and the host through Grafana's 127.0.0.1 port.
    from_app = host.run("docker exec sonarr curl -s -o /dev/null -w '%{http_code}' -H 'Remote-User: admin' "
                        "http://grafana:3000/api/user")
    from_host = host.run("curl -s -o /dev/null -w '%{http_code}' -H 'Remote-User: admin' http://127.0.0.1:3000/api/user")
    print("Remote-User: admin from sonarr -> %s, from the host -> %s" % (from_app.stdout, from_host.stdout))
    assert (from_app.stdout, from_host.stdout) == ("401", "401")


def test_grafana_accepts_the_signed_in_user_through_the_proxy(host, admin_session):
    # A Remote-User the browser sends is replaced by the one Authelia answered (alice), never passed on.
    rc, status, _, body = curl(host, GRAFANA, "/api/user", cookie=admin_session, headers={"Remote-User": "admin"})
    print(status, body[:300])
    assert rc == 0 and status == 200, body[:500]
    assert json.loads(body)["login"] == "alice"
    assert states(host, ["grafana"]) == {"grafana": "running healthy"}
    # Her first visit signed her up (auth_proxy auto_sign_up): Grafana wrote her account into its SQLite database,
    # in the data directory it owns as the household's account.
    database = host.file(APPDATA + "/grafana/data/grafana.db")
    assert "%d:%d" % (database.uid, database.gid) == household_owner()
    script = ("import sqlite3; db = sqlite3.connect('file:%s?mode=ro', uri=True); "
              "print(db.execute('SELECT COUNT(*) FROM user WHERE login = ?', ('alice',)).fetchone()[0])" % database.path)
    assert host.check_output("python3 -c \"%s\"" % script) == "1"
