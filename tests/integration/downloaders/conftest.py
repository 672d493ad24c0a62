# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the download-client and companion-app modules.

- qbittorrent: a real qbittorrent-nox on a free loopback port, profile in tmp, qBittorrent.conf seeded with
  WebUI\\Username and WebUI\\Password_PBKDF2 computed here (PBKDF2-HMAC-SHA512, 100000 iterations, 16-byte salt).
- nzbget: a real nzbget in server mode (-s) with nzbget.conf made from the packaged template.
- bazarr / overseerr: the loopback doubles from tests/doubles.
- requests: every HttpClient.request of a module run, classified as read or write, for the benchmark that the
  terminal summary prints (requests per module on a no-op run and on a change).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import importlib
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from ansible.module_utils import _internal
from ansible.module_utils.testing import patch_module_args
from ansible_collections.monsterr.mediaserver.plugins.module_utils import _http
from ansible_collections.monsterr.mediaserver.tests.integration.downloaders import bench
from ansible_collections.monsterr.mediaserver.tests.integration.downloaders.bench import free_port

QBT_USER = "admin"
QBT_PASSWORD = "s3cret-Passw0rd"
NZB_USER = "nzbget"
NZB_PASSWORD = "tegbzn6789-test"
NZBGET_TEMPLATES = ("/etc/nzbget.conf", "/usr/share/nzbget/nzbget.conf", "/usr/share/nzbget/webui/nzbget.conf")
WRITE_PATHS = ("/api/v2/app/setPreferences", "/api/v2/torrents/createCategory", "/api/v2/torrents/editCategory",
               "/api/v2/torrents/removeCategories")
NZB_WRITES = ("saveconfig", "reload")



def pytest_terminal_summary(terminalreporter):
    if not bench.BENCH:
        return
    terminalreporter.write_sep("-", "requests per module run (reads/writes), measured by the four-step tests")
    for line in bench.lines():
        terminalreporter.write_line(line)


def wait_http(url, timeout=30, data=None, headers=None):
    """Until the URL answers at all (any HTTP status)."""
    deadline = time.time() + timeout
    while True:
        try:
            urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers or {}), timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except (urllib.error.URLError, OSError):
            if time.time() > deadline:
                raise RuntimeError("%s did not answer within %ss" % (url, timeout))
            time.sleep(0.2)


def stop_process(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


# -- running modules -------------------------------------------------------------------------------------------

def run_module(capsys, module_name_, check_mode=False, **params):
    module = importlib.import_module("ansible_collections.monsterr.mediaserver.plugins.modules." + module_name_)
    params.setdefault("_ansible_check_mode", check_mode)
    params.setdefault("_ansible_diff", True)
    with patch_module_args(params):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


class Requests(object):
    """Every request the module's HttpClient sends (retries not counted), as (app, method, path, rpc)."""

    def __init__(self):
        self.seen = []

    def reset(self):
        self.seen = []

    @staticmethod
    def is_write(entry):
        app, method, path, rpc = entry
        if app == "nzbget":
            return rpc in NZB_WRITES
        if app == "qbittorrent":
            return path in WRITE_PATHS
        return method in ("POST", "PUT", "DELETE") and not path.endswith("/test")

    @property
    def writes(self):
        return sum(1 for e in self.seen if self.is_write(e))

    @property
    def reads(self):
        return len(self.seen) - self.writes


@pytest.fixture()
def requests_seen(monkeypatch):
    recorder = Requests()
    original = _http.HttpClient.request

    def request(self, method, path, params=None, json_body=None, form=None, headers=None, expect=None):
        rpc = json_body.get("method") if isinstance(json_body, dict) else None
        recorder.seen.append((self.app, method.upper(), path, rpc))
        return original(self, method, path, params=params, json_body=json_body, form=form, headers=headers,
                        expect=expect)

    monkeypatch.setattr(_http.HttpClient, "request", request)
    return recorder


@pytest.fixture()
def counted(capsys, requests_seen, monkeypatch):
    """counted(name, **params) -> (result, reads, writes) of one module run."""
    # Modules run on the target: once another test has loaded controller code in this process, module.warn()
    # would go to the controller's display instead of the result.
    monkeypatch.setattr(_internal, "is_controller", False)
    def run(module_name_, **params):
        requests_seen.reset()
        result = run_module(capsys, module_name_, **params)
        return result, requests_seen.reads, requests_seen.writes
    run.requests = requests_seen
    return run


# -- qBittorrent -------------------------------------------------------------------------------------------------

def pbkdf2_conf_value(password):
    salt = os.urandom(16)
    key = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, 100000, dklen=64)
    return '"@ByteArray(%s:%s)"' % (base64.b64encode(salt).decode(), base64.b64encode(key).decode())


class Qbittorrent(object):
    def __init__(self, root, preferences=None):
        self.root = root
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.username, self.password = QBT_USER, QBT_PASSWORD
        conf_dir = os.path.join(root, "profile", "qBittorrent", "config")
        os.makedirs(conf_dir)
        lines = {
            "LegalNotice": {"Accepted": "true"},
            "Preferences": {"WebUI\\Address": "127.0.0.1", "WebUI\\Port": str(self.port), "WebUI\\UPnP": "false",
                            "WebUI\\Username": self.username, "WebUI\\Password_PBKDF2": pbkdf2_conf_value(self.password),
                            "WebUI\\LocalHostAuth": "true", "General\\Locale": "en"},
            "BitTorrent": {"Session\\DefaultSavePath": os.path.join(root, "downloads"), "Session\\Port": str(free_port()),
                           "Session\\DHTEnabled": "false", "Session\\LSDEnabled": "false", "Session\\PeXEnabled": "false",
                           "Session\\AddTorrentPaused": "true"},
            "Network": {"PortForwardingEnabled": "false"},
        }
        for section, values in (preferences or {}).items():
            lines.setdefault(section, {}).update(values)
        with open(os.path.join(conf_dir, "qBittorrent.conf"), "w") as conf:
            for section, values in lines.items():
                conf.write("[%s]\n" % section)
                conf.writelines("%s=%s\n" % kv for kv in values.items())
                conf.write("\n")
        env = dict(os.environ, HOME=root, XDG_CONFIG_HOME=os.path.join(root, "xdg"))
        self.log = open(os.path.join(root, "qbittorrent.log"), "w")
        self.proc = subprocess.Popen(["qbittorrent-nox", "--profile=%s" % os.path.join(root, "profile")],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env)
        wait_http(self.url + "/api/v2/app/webapiVersion")
        self.api = self.client()

    def client(self):
        from ansible_collections.monsterr.mediaserver.plugins.module_utils._qbittorrent import QbittorrentClient
        return QbittorrentClient(self.url, self.username, self.password, timeout=10)

    def args(self, **extra):
        return dict(url=self.url, username=self.username, password=self.password, **extra)

    def stop(self):
        stop_process(self.proc)
        self.log.close()


@pytest.fixture()
def qbittorrent_factory(tmp_path):
    if not shutil.which("qbittorrent-nox"):
        pytest.fail("qbittorrent-nox not found: run `make setup` (apt-get install qbittorrent-nox)", pytrace=False)
    started = []

    def start(preferences=None):
        root = str(tmp_path / ("qbt%d" % len(started)))
        os.makedirs(root)
        app = Qbittorrent(root, preferences)
        started.append(app)
        return app

    yield start
    for app in started:
        app.stop()


@pytest.fixture()
def qbittorrent(qbittorrent_factory):
    return qbittorrent_factory()


# -- NZBGet -------------------------------------------------------------------------------------------------------

class Nzbget(object):
    def __init__(self, root):
        template = next((p for p in NZBGET_TEMPLATES if os.path.exists(p)), None)
        if template is None:
            pytest.fail("no nzbget.conf template found in %s: run `make setup` (apt-get install nzbget)"
                        % ", ".join(NZBGET_TEMPLATES), pytrace=False)
        self.root = root
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.conf = os.path.join(root, "nzbget.conf")
        overrides = {"MainDir": os.path.join(root, "main"), "ControlIP": "127.0.0.1", "ControlPort": str(self.port),
                     "ControlUsername": NZB_USER, "ControlPassword": NZB_PASSWORD, "OutputMode": "log",
                     "WebDir": "", "UpdateCheck": "none", "DaemonUsername": "root"}
        with open(template) as src, open(self.conf, "w") as dst:
            for line in src:
                name = line.split("=", 1)[0]
                if "=" in line and not line.startswith("#") and name in overrides:
                    line = "%s=%s\n" % (name, overrides.pop(name))
                dst.write(line)
            dst.writelines("%s=%s\n" % kv for kv in overrides.items())
        self.log = open(os.path.join(root, "nzbget.out"), "w")
        self.proc = subprocess.Popen(["nzbget", "-s", "-c", self.conf], stdout=self.log, stderr=subprocess.STDOUT,
                                     env=dict(os.environ, HOME=root))
        wait_http(self.url + "/jsonrpc", data=b'{"method":"version","params":[],"id":1}')
        self.api = self.client()

    def client(self):
        from ansible_collections.monsterr.mediaserver.plugins.module_utils._nzbget import NzbgetClient
        return NzbgetClient(self.url, NZB_USER, NZB_PASSWORD, timeout=10)

    def args(self, **extra):
        return dict(url=self.url, username=NZB_USER, password=NZB_PASSWORD, **extra)

    def file_options(self):
        """The option lines of nzbget.conf as the file holds them now."""
        with open(self.conf) as conf:
            return [tuple(line.rstrip("\n").split("=", 1)) for line in conf
                    if "=" in line and not line.startswith("#")]

    def stop(self):
        stop_process(self.proc)
        self.log.close()


@pytest.fixture()
def nzbget(tmp_path):
    if not shutil.which("nzbget"):
        pytest.fail("nzbget not found: run `make setup` (apt-get install nzbget)", pytrace=False)
    root = str(tmp_path / "nzbget")
    os.makedirs(root)
    app = Nzbget(root)
    yield app
    app.stop()


# -- doubles ------------------------------------------------------------------------------------------------------

@pytest.fixture()
def bazarr():
    from ansible_collections.monsterr.mediaserver.tests.doubles.bazarr import BazarrDouble
    double = BazarrDouble("00112233445566778899aabbccddeeff").start()
    yield double
    double.stop()


@pytest.fixture()
def overseerr():
    from ansible_collections.monsterr.mediaserver.tests.doubles.overseerr import OverseerrDouble
    double = OverseerrDouble("b3ZlcnNlZXJyLWtleQ==").start()
    yield double
    double.stop()
