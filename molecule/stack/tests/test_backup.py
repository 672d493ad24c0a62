"""Verify the backup layer by asking the real system: systemd's timer, restic's repository, the apps' APIs. Then a
disaster - sonarr's container removed and its appdata deleted - undone by playbooks/restore.yml, and a failed run
that must still start the containers it stopped. The tests of this file run in its order and share STATE; each
leaves the household as it found it (apart from the snapshots in the repository). They stop, remove and restore
containers: marker changes_household (run after the tests that look at the household as converged)."""

import json
import os
import re

import pytest

from helpers import READY, ROOT, entry, expected_containers, playbook as run_playbook, secret, services, wait_ready

pytestmark = pytest.mark.changes_household

WRAPPER = "/usr/local/sbin/monsterr-backup"
REPOSITORY = "/srv/backup/restic"
APPDATA = "/opt/monsterr"
# Services whose appdata must be in every snapshot (at least these; every service with appdata is).
SAVED = ["nzbget", "prowlarr", "qbittorrent", "radarr", "redis", "sonarr"]
# Every container of the household: each must be up after a backup, and only STOPPED ones restarted.
ALL = expected_containers()
# The services whose catalog entry says backup.stop (apps with an SQLite database), stopped for the snapshot.
STOPPED = sorted(n for n in services() if (entry(n).get("backup") or {}).get("stop"))
SONARR = "http://127.0.0.1:8989/api/v3"
PROOF_FOLDER = "/data/media/backup-proof"
STATE = {}


def api(host, method, path, body=None):
    """(status, parsed body) of a call to sonarr's API on the instance, with the household's key."""
    cmd = "curl -s -o /tmp/backup-body -w '%%{http_code}' -X %s -H 'X-Api-Key: %s' -H 'Content-Type: application/json'" \
          % (method, secret("sonarr", "api_key"))
    if body is not None:
        cmd += " -d '%s'" % json.dumps(body)
    out = host.run(cmd + " '%s%s'; echo; cat /tmp/backup-body" % (SONARR, path)).stdout
    status, _, raw = out.partition("\n")
    try:
        return int(status or 0), json.loads(raw) if raw.strip() else None
    except ValueError:
        return int(status or 0), raw


def wiring(host):
    """What the wiring layer (and this test) created in sonarr, read through its API."""
    lists = {}
    for kind in ("downloadclient", "rootfolder", "remotepathmapping"):
        status, body = api(host, "GET", "/" + kind)
        assert status == 200, (kind, status, body)
        lists[kind] = sorted(body, key=lambda o: o["id"])
    return lists


def started_at(host, names):
    """{name: StartedAt} (None for a container that is not there)."""
    out = dict((n, None) for n in names)
    result = host.run("docker inspect %s" % " ".join(names))
    for data in json.loads(result.stdout or "[]"):
        out[data["Name"].lstrip("/")] = data["State"]["StartedAt"]
    return out


def all_up(host, names=None):
    """True once every named container (default: all of the household) is up; prints the ones that are not."""
    states = wait_ready(host, names or ALL)
    down = dict((n, s) for n, s in states.items() if s not in READY)
    print("not up: %s" % down if down else "all up")
    return not down


def sha256(host, path):
    return host.check_output("sha256sum %s" % path).split()[0]


def restic(host, *args):
    return host.check_output("%s restic %s" % (WRAPPER, " ".join(args)))


def playbook(name, *args):
    """Run playbooks/<name> from the controller against the scenario's inventory; (rc, output)."""
    return run_playbook(os.path.join(ROOT, "playbooks", name), name, *args)


def recap(output):
    found = re.search(r"\n(\S+)\s*:\s*ok=\d+\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)", output)
    assert found, output[-3000:]
    return int(found.group(2)), int(found.group(3))


# ---- the layer as converged ----------------------------------------------------------------------------

def test_timer_is_enabled_and_scheduled(host):
    assert host.check_output("systemctl is-enabled monsterr-backup.timer") == "enabled"
    assert host.check_output("systemctl is-active monsterr-backup.timer") == "active"
    timers = host.check_output("systemctl list-timers --all --no-legend monsterr-backup.timer")
    print(timers)
    assert "monsterr-backup.timer" in timers and "monsterr-backup.service" in timers
    assert not timers.startswith("n/a") and not timers.startswith("-"), "the timer has no next run"
    shown = dict(line.split("=", 1) for line in host.check_output(
        "systemctl show monsterr-backup.timer -p TimersCalendar -p RandomizedDelayUSec -p Persistent "
        "-p NextElapseUSecRealtime").splitlines())
    print(shown)
    assert "OnCalendar=*-*-* 03:30:00" in shown["TimersCalendar"]
    assert shown["RandomizedDelayUSec"] == "30min"
    assert shown["Persistent"] == "yes"
    assert shown["NextElapseUSecRealtime"] not in ("", "0", "n/a")
    # The service the timer starts runs the wrapper, and resumes the containers even after a kill.
    service = host.check_output("systemctl show monsterr-backup.service -p ExecStart -p ExecStopPost -p Type")
    assert "path=%s ; argv[]=%s run" % (WRAPPER, WRAPPER) in service
    assert "argv[]=%s resume" % WRAPPER in service
    assert "Type=oneshot" in service


def test_repository_and_password_are_root_only_and_never_in_the_clear(host):
    password = secret("backup", "restic_password")
    assert re.match(r"^[0-9a-f]{64}$", password), "32 random bytes as lowercase hex"
    env = host.file("/etc/default/monsterr-backup")
    assert (env.mode, env.user, env.group) == (0o600, "root", "root")
    assert "RESTIC_PASSWORD=%s" % password in env.content_string   # the wrapper's only source of it
    for path in (WRAPPER, "/etc/systemd/system/monsterr-backup.service", "/etc/systemd/system/monsterr-backup.timer"):
        assert password not in host.file(path).content_string, path
    repo = host.file(REPOSITORY)
    assert (repo.mode, repo.user) == (0o700, "root")
    # restic opens it with that password (and not with another one).
    assert json.loads(restic(host, "cat", "config"))["version"] in (1, 2)
    wrong = host.run("RESTIC_PASSWORD=%s restic -r %s cat config" % ("0" * 64, REPOSITORY))
    assert wrong.rc != 0 and "wrong password" in wrong.stderr


# ---- back up, lose sonarr, restore ---------------------------------------------------------------------

def test_backup_playbook_saves_the_appdata_without_logs_or_media(host):
    assert all_up(host)
    # Something created through the API before the backup, which must survive the disaster.
    host.check_output("mkdir %s && chown 2000:2000 %s" % (PROOF_FOLDER, PROOF_FOLDER))
    status, created = api(host, "POST", "/rootfolder", {"path": PROOF_FOLDER})
    assert status == 201, created
    STATE["rootfolder"] = created["id"]
    STATE["wiring"] = wiring(host)
    assert PROOF_FOLDER in [f["path"] for f in STATE["wiring"]["rootfolder"]]
    STATE["config_sha"] = sha256(host, APPDATA + "/sonarr/config.xml")
    # What must not be saved: a log (catalog exclude "logs"), a pid file ("*.pid") and media.
    # (Into directories that exist: the base layer's /data tree keeps its owners and modes.)
    host.check_output("mkdir -p %s/sonarr/logs && echo proof > %s/sonarr/logs/backup-proof.txt"
                      " && echo 1 > %s/sonarr/sonarr.pid && echo media > /data/media/tv/backup-proof.mkv"
                      % (APPDATA, APPDATA, APPDATA))
    before = started_at(host, ALL)
    STATE["media_dir"] = host.check_output("stat -c '%U %G %a' /data/media/tv")
    earlier = [s["id"] for s in json.loads(restic(host, "snapshots", "--json"))]

    rc, output = playbook("backup.yml")
    assert rc == 0, output[-4000:]
    changed, failed = recap(output)
    assert failed == 0
    found = re.search(r"Snapshot ([0-9a-f]{64}) saved at", output)
    assert found, output[-3000:]
    STATE["snapshot"] = snapshot_id = found.group(1)
    assert secret("backup", "restic_password") not in output
    for name in STOPPED:
        assert "monsterr-backup: stopped %s" % name in output and "monsterr-backup: started %s" % name in output
    print("backup.yml: changed=%d, snapshot %s" % (changed, snapshot_id))
    print("\n".join(line for line in output.splitlines() if "monsterr-backup:" in line or "Snapshot" in line))

    # The run added exactly that one snapshot, of this host and tag, with every service's appdata.
    snapshots = [s for s in json.loads(restic(host, "snapshots", "--json")) if s["id"] not in earlier]
    assert [s["id"] for s in snapshots] == [snapshot_id]
    assert snapshots[0]["hostname"] == host.backend.host and snapshots[0]["tags"] == ["monsterr"]   # inventory name
    paths = snapshots[0]["paths"]
    assert set(APPDATA + "/" + n for n in SAVED) <= set(paths)
    assert not [p for p in paths if p == "/data" or p.startswith("/data/") or p == APPDATA]
    files = restic(host, "ls", snapshot_id).splitlines()
    assert APPDATA + "/sonarr/config.xml" in files
    # The double keeps what the API created in /config, as the apps keep their database there.
    assert APPDATA + "/sonarr/servarr-double.json" in files, "the app's state must be saved"
    assert APPDATA + "/radarr/config.xml" in files
    excluded = [f for f in files if f.startswith(APPDATA + "/sonarr/logs") or f.endswith(".pid") or f.startswith("/data")]
    assert excluded == []

    # The database containers were stopped and started again; the others were not touched.
    after = started_at(host, ALL)
    assert sorted(n for n in ALL if after[n] != before[n]) == STOPPED
    assert all_up(host)


def test_restore_playbook_brings_sonarr_back_after_a_disaster(host):
    assert STATE.get("snapshot"), "needs the backup test"
    key = secret("sonarr", "api_key")
    untouched = started_at(host, [n for n in ALL if n != "sonarr"])
    # The disaster: the container and every byte of its appdata gone.
    host.check_output("docker rm -f sonarr && rm -rf %s/sonarr" % APPDATA)
    assert not host.file(APPDATA + "/sonarr").exists
    assert host.run("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8989/ping").stdout != "200"

    rc, output = playbook("restore.yml", "-e", "restore_services=sonarr")
    assert rc == 0, output[-4000:]
    _, failed = recap(output)
    assert failed == 0
    assert "Restored sonarr from snapshot %s" % STATE["snapshot"] in output, output[-3000:]
    print("\n".join(line for line in output.splitlines() if "Restor" in line))

    assert all_up(host, ["sonarr"])
    status, info = api(host, "GET", "/system/status")
    assert status == 200 and info["appName"] == "Sonarr", (status, info)
    assert host.run("curl -s -o /dev/null -w '%%{http_code}' -H 'X-Api-Key: %s' %s/system/status"
                    % ("0" * 64, SONARR)).stdout == "401"
    # Byte for byte the same config (with the same key), owners as saved, the same API state, the excluded log gone.
    assert sha256(host, APPDATA + "/sonarr/config.xml") == STATE["config_sha"]
    assert "<ApiKey>%s</ApiKey>" % key in host.file(APPDATA + "/sonarr/config.xml").content_string
    assert host.file(APPDATA + "/sonarr").uid == 2000
    restored = wiring(host)
    print("before: %s\nafter:  %s" % (STATE["wiring"], restored))
    assert restored == STATE["wiring"]
    assert PROOF_FOLDER in [f["path"] for f in restored["rootfolder"]]
    assert not host.file(APPDATA + "/sonarr/logs/backup-proof.txt").exists
    assert host.file("/data/media/tv/backup-proof.mkv").exists, "media is never touched"
    assert not host.file(APPDATA + "/.pre-restore").exists, "nothing was there to keep"
    # Only sonarr was restored and restarted.
    assert started_at(host, list(untouched)) == untouched


def test_restoring_over_existing_appdata_keeps_what_was_there(host):
    # A named snapshot (not latest) over an app that still has its appdata: that is moved aside, not mixed in.
    assert STATE.get("snapshot"), "needs the backup test"
    config_sha = sha256(host, APPDATA + "/radarr/config.xml")
    host.check_output("echo newer > %s/radarr/after-the-backup.txt" % APPDATA)
    rc, output = playbook("restore.yml", "-e", json.dumps({"restore_services": ["radarr"],
                                                           "restore_snapshot": STATE["snapshot"][:12]}))
    assert rc == 0, output[-4000:]
    assert "Restored radarr from snapshot %s" % STATE["snapshot"] in output
    aside = host.check_output("ls -d %s/.pre-restore/*/radarr" % APPDATA)
    assert host.file(aside + "/after-the-backup.txt").exists
    assert not host.file(APPDATA + "/radarr/after-the-backup.txt").exists
    assert sha256(host, APPDATA + "/radarr/config.xml") == config_sha
    assert all_up(host, ["radarr"])
    key = secret("radarr", "api_key")
    assert host.run("curl -s -o /dev/null -w '%%{http_code}' -H 'X-Api-Key: %s' "
                    "http://127.0.0.1:7878/api/v3/system/status" % key).stdout == "200"
    host.check_output("rm -rf %s/.pre-restore" % APPDATA)


def test_a_failed_backup_still_starts_the_containers_it_stopped(host):
    before = started_at(host, STOPPED)
    host.check_output("mv %s %s.away" % (REPOSITORY, REPOSITORY))   # e.g. the backup disk is not mounted
    try:
        result = host.run("%s run" % WRAPPER)
    finally:
        host.check_output("mv %s.away %s" % (REPOSITORY, REPOSITORY))
    print(result.stdout, result.stderr)
    assert result.rc != 0
    assert "backup FAILED" in result.stderr
    for name in STOPPED:
        assert "stopped %s" % name in result.stdout and "started %s" % name in result.stdout
    after = started_at(host, STOPPED)
    assert all(after[n] != before[n] for n in STOPPED)
    assert all_up(host)
    assert not host.file("/run/monsterr-backup/quiesced").exists


def test_the_timer_service_backs_up_and_resume_finishes_a_killed_run(host):
    # The unit the timer starts, run once now (oneshot: returns when done).
    host.check_output("systemctl start monsterr-backup.service")
    journal = host.check_output("journalctl -u monsterr-backup.service --no-pager -o cat -n 40")
    assert re.search(r"monsterr-backup: snapshot [0-9a-f]{8,64} saved", journal), journal
    assert "retention applied: --keep-daily 7 --keep-weekly 4 --keep-monthly 6, pruned" in journal
    assert len(json.loads(restic(host, "snapshots", "--json"))) == 2
    # What ExecStopPost does after a kill: the list of stopped containers is worked off.
    host.check_output("docker stop -t 10 radarr && mkdir -p /run/monsterr-backup && "
                      "echo 'stop radarr' > /run/monsterr-backup/quiesced")
    assert "started radarr" in host.check_output("%s resume" % WRAPPER)
    assert all_up(host)


def test_leave_the_instance_as_found(host):
    if STATE.get("rootfolder"):
        assert api(host, "DELETE", "/rootfolder/%d" % STATE["rootfolder"])[0] == 200
    host.check_output("rm -rf %s /data/media/tv/backup-proof.mkv" % PROOF_FOLDER)
    assert PROOF_FOLDER not in [f["path"] for f in wiring(host)["rootfolder"]]
    if STATE.get("media_dir"):
        assert host.check_output("stat -c '%U %G %a' /data/media/tv") == STATE["media_dir"]


@pytest.mark.parametrize("bad, expected", [
    ({"restore_services": "sonar"}, "restore_services has 'sonar', which is not a service this household backs up"),
    ({"restore_snapshot": "yesterday"}, "restore_snapshot is 'yesterday': give latest or a snapshot id"),
    ({"restore_snapshot": "deadbeef"}, "No snapshot 'deadbeef'"),
])
def test_restore_refuses_bad_input_before_touching_anything(host, bad, expected):
    before = started_at(host, ALL)
    rc, output = playbook("restore.yml", "-e", json.dumps(bad))
    assert rc != 0
    assert expected in output, output[-3000:]
    assert started_at(host, ALL) == before


def test_backup_refuses_bad_settings_at_once_before_touching_anything(host):
    files = [WRAPPER, "/etc/default/monsterr-backup", "/etc/systemd/system/monsterr-backup.timer"]
    before = dict((f, sha256(host, f)) for f in files)
    bad = {"backup_on_calendar": "every night", "backup_repository": "srv/backup", "backup_keep_daily": 0,
           "backup_keep_weekly": 0, "backup_keep_monthly": 0, "backup_stop_services": ["sonar"],
           "backup_repository_env": {"RESTIC_PASSWORD": "x"}}
    rc, output = playbook("backup.yml", "-e", json.dumps(bad))
    assert rc != 0
    print("\n".join(line for line in output.splitlines() if "backup" in line)[-3000:])
    # Preflight checks the backup layer's settings before any layer changes the host, all of them at once.
    for expected in ("Preflight found 5 problem(s); nothing was changed on the host",
                     "backup_repository = 'srv/backup' is not a restic repository. Fix: give an absolute path",
                     "backup_repository_env.RESTIC_PASSWORD = (value hidden) is set by the role itself",
                     "restic would keep no snapshot",
                     "backup_on_calendar = 'every night' is not a systemd calendar event",
                     "backup_stop_services has 'sonar', which is not an enabled service. Fix: use one of"):
        assert expected in output, expected
    assert dict((f, sha256(host, f)) for f in files) == before
