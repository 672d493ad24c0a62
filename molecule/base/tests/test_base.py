"""Verify the base layer on a converged Debian 12/13 host, by asking the real system."""

import pytest

MEDIA_LIBS = ["tv", "movies", "music", "books", "audiobooks"]


def test_packages(host):
    for pkg in ["acl", "ca-certificates", "curl", "locales", "rsync", "tzdata", "unattended-upgrades", "openssh-server"]:
        assert host.package(pkg).is_installed, pkg


def test_timezone_and_locale(host):
    assert host.file("/etc/localtime").linked_to == "/usr/share/zoneinfo/Europe/Berlin"
    assert host.run("date +%Z").stdout.strip() in ("CET", "CEST")
    assert host.file("/etc/default/locale").content_string == "LANG=de_DE.UTF-8\n"
    assert "de_DE.utf8" in host.run("locale -a").stdout.split()


def test_service_user(host):
    user = host.user("media")
    assert (user.uid, user.gid) == (2000, 2000)
    assert user.shell == "/usr/sbin/nologin"
    assert host.group("media").gid == 2000


@pytest.mark.parametrize("path", ["/data"] + [f"/data/media/{lib}" for lib in MEDIA_LIBS]
                         + [f"/data/downloads/torrents/{lib}" for lib in MEDIA_LIBS]
                         + [f"/data/downloads/usenet/completed/{lib}" for lib in MEDIA_LIBS]
                         + ["/data/downloads/torrents/incomplete", "/data/downloads/usenet/intermediate"])
def test_data_tree(host, path):
    d = host.file(path)
    assert d.is_directory
    assert (d.user, d.group, d.mode) == ("media", "media", 0o2775)


def test_data_tree_is_one_filesystem_so_hardlinks_work(host):
    cmd = host.run(
        "set -e; f=/data/downloads/torrents/tv/probe.mkv; echo x > $f; "
        "ln $f /data/media/tv/probe.mkv; stat -c %h $f; rm -f $f /data/media/tv/probe.mkv")
    assert cmd.rc == 0, cmd.stderr
    assert cmd.stdout.strip() == "2"


def test_appdata_root(host):
    d = host.file("/opt/monsterr")
    assert (d.is_directory, d.user, d.group, d.mode) == (True, "media", "media", 0o750)


def test_inotify_limits(host):
    assert host.sysctl("fs.inotify.max_user_watches") >= 524288
    assert host.sysctl("fs.inotify.max_user_instances") >= 512
    assert "fs.inotify.max_user_watches=524288" in host.file("/etc/sysctl.d/60-monsterr.conf").content_string


def test_unattended_upgrades(host):
    dump = host.run("apt-config dump").stdout
    assert 'APT::Periodic::Unattended-Upgrade "1";' in dump
    assert 'Unattended-Upgrade::Automatic-Reboot "false";' in dump
    # The distribution's security origins are what unattended-upgrade will install from.
    dry = host.run("unattended-upgrade --dry-run --debug 2>&1 | head -40")
    assert "security" in dry.stdout.lower(), dry.stdout


def test_ssh_hardening(host):
    effective = host.run("sshd -T").stdout.lower().splitlines()
    assert "permitrootlogin no" in effective
    assert "passwordauthentication no" in effective        # a key is set
    assert "kbdinteractiveauthentication no" in effective
    keys = host.file("/root/.ssh/authorized_keys").content_string
    assert "molecule@test" in keys
