# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The transport guarantees of _http.py, against a real HTTP(S) server on loopback that misbehaves on purpose
(fault_server.py). Every client is built on HttpClient, so what holds here holds for every module; the module
tests (tests/unit/plugins/modules/test_transport_faults.py) check that each module relies on it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import socket
from urllib.parse import quote, quote_plus

import pytest

from ansible_collections.monsterr.mediaserver.plugins.module_utils._arr import ArrClient
from ansible_collections.monsterr.mediaserver.plugins.module_utils._bazarr import BazarrClient
from ansible_collections.monsterr.mediaserver.plugins.module_utils._http import ApiError, HttpClient
from ansible_collections.monsterr.mediaserver.plugins.module_utils._nzbget import NzbgetClient
from ansible_collections.monsterr.mediaserver.plugins.module_utils._overseerr import OverseerrClient
from ansible_collections.monsterr.mediaserver.plugins.module_utils._qbittorrent import QbittorrentClient
from ansible_collections.monsterr.mediaserver.tests.unit.plugins.module_utils.fault_server import (
    FaultServer, self_signed_cert)

KEY = "0123456789abcdef0123456789abcdef"
PASSWORD = "p@ss word/+&=%x"   # every character that URL encoding changes
BASIC = base64.b64encode(("nzbget:%s" % PASSWORD).encode()).decode()


@pytest.fixture()
def server():
    started = []

    def start(**kwargs):
        fault = FaultServer(**kwargs).start()
        started.append(fault)
        return fault

    fault = start()
    fault.another = start      # a second server, e.g. the sign-on portal
    yield fault
    for one in started:
        one.stop()


def client(url, **kwargs):
    sleeps = []
    kwargs.setdefault("sleep", sleeps.append)
    c = HttpClient("sonarr", url, headers={"X-Api-Key": KEY}, secrets=[KEY], timeout=5, **kwargs)
    c.sleeps = sleeps
    return c


def no_secret_in(text):
    for form in (KEY, PASSWORD, quote(PASSWORD, safe=""), quote_plus(PASSWORD), BASIC):
        assert form not in text, "secret form %r leaked" % form


# -- the basics -------------------------------------------------------------------------------------------------

def test_get_sends_key_and_decodes_json(server):
    server.on("/sonarr/api/v3/system/status", ("json", 200, {"version": "4.0.16"}))
    c = client(server.origin + "/sonarr")
    assert c.get_json("/api/v3/system/status") == {"version": "4.0.16"}
    method, path, headers, _ = server.seen[0]
    assert (method, path, headers["X-Api-Key"]) == ("GET", "/sonarr/api/v3/system/status", KEY)


def test_error_names_app_method_host_port_path_and_status(server):
    """Issue #12: messages named the path but not where the app was (host and port)."""
    server.on("/sonarr/api/v3/rootfolder", ("json", 404, {"message": "NotFound"}))
    c = client(server.origin + "/sonarr")
    with pytest.raises(ApiError) as err:
        c.get_json("/api/v3/rootfolder")
    assert str(err.value) == "sonarr: GET %s/sonarr/api/v3/rootfolder -> 404: NotFound" % server.hostport
    assert err.value.url == "%s/sonarr/api/v3/rootfolder" % server.hostport


def test_servarr_validation_array_is_summarised(server):
    server.on("/api/v3/downloadclient", ("json", 400, [
        {"propertyName": "Host", "errorMessage": "Unable to connect to qBittorrent", "detailedDescription": "Check the host",
         "severity": "error"},
        {"propertyName": "TvCategory", "errorMessage": "Category is recommended", "isWarning": True}]))
    c = client(server.origin)
    with pytest.raises(ApiError) as err:
        c.send_json("POST", "/api/v3/downloadclient", {"name": "qBittorrent"})
    assert c.requests == 1, "a 400 is not retried"
    assert str(err.value).endswith("/api/v3/downloadclient -> 400: Host: Unable to connect to qBittorrent "
                                   "(Check the host)")


# -- answers that are not what the API says ----------------------------------------------------------------------

@pytest.mark.parametrize("body", [b"<html><body>Sign in</body></html>", b"{\"truncated\": ", b""])
def test_malformed_json_is_an_api_error_naming_the_request(server, body):
    """Issue #12: a body that is not JSON raised a bare ValueError (no app, no method, no path)."""
    server.on("/api/v3/system/status", ("raw", 200, body, "text/html"))
    c = client(server.origin)
    with pytest.raises(ApiError) as err:
        c.request("GET", "/api/v3/system/status").json(dict)
    message = str(err.value)
    assert message.startswith("sonarr: GET %s/api/v3/system/status -> 200: " % server.hostport)
    assert "not JSON" in message or "wrong shape" in message


@pytest.mark.parametrize("shape,answer,expected", [(dict, [1, 2], "expected an object, got a list"),
                                                    (list, {"a": 1}, "expected a list, got an object"),
                                                    ("list_of_dicts", ["x"], "expected a list of objects")])
def test_wrong_shape_is_an_api_error(server, shape, answer, expected):
    from ansible_collections.monsterr.mediaserver.plugins.module_utils._http import LIST_OF_DICTS
    server.on("/x", ("json", 200, answer))
    with pytest.raises(ApiError) as err:
        client(server.origin).get_json("/x", shape=LIST_OF_DICTS if shape == "list_of_dicts" else shape)
    assert expected in str(err.value) and err.value.status == 200 and err.value.kind == "answer"


# -- credentials stay on the app's origin ------------------------------------------------------------------------

def clients_against(origin):
    """One client of each kind, all with credentials: (name, client, call)."""
    return [
        ("servarr", ArrClient("sonarr", origin, KEY, wait_timeout=0, sleep=lambda s: None),
         lambda c: c.list("rootfolder")),
        ("nzbget", NzbgetClient(origin, "nzbget", PASSWORD, sleep=lambda s: None), lambda c: c.version()),
        ("qbittorrent", QbittorrentClient(origin, password=PASSWORD, sleep=lambda s: None), lambda c: c.preferences()),
        ("qbittorrent-key", QbittorrentClient(origin, api_key="qbt_" + KEY, sleep=lambda s: None),
         lambda c: c.preferences()),
        ("bazarr", BazarrClient(origin, KEY, sleep=lambda s: None), lambda c: c.settings()),
        ("overseerr", OverseerrClient(origin, KEY, sleep=lambda s: None), lambda c: c.servers("sonarr")),
    ]


@pytest.mark.parametrize("index", range(6))
@pytest.mark.parametrize("status", [302, 307])
def test_redirect_to_another_origin_sends_no_credentials_and_fails_clearly(server, index, status):
    """Issue #12: a redirect to another host (an app behind the sign-on portal) was followed WITH the API key or
    the Authorization header. The portal here is a second server that records what reaches it."""
    portal = server.another()
    portal.default = ("raw", 200, b"<html>Sign in</html>", "text/html")
    server.default = ("redirect", status, portal.origin + "/?rd=%s/api" % server.origin)
    name, c, call = clients_against(server.origin)[index]
    with pytest.raises(ApiError) as err:
        call(c)
    assert portal.seen == [], "%s: followed the redirect to the portal:\n%s" % (name, portal.received())
    message = str(err.value)
    assert "redirected to %s/" % portal.origin in message and "sign-on portal" in message, message
    assert err.value.status == status and server.hostport in message
    no_secret_in(message)


def test_redirect_on_the_same_origin_is_followed(server):
    """A Servarr app without its URL base redirects on the same origin: that is followed, key and all."""
    server.on("/api/v3/system/status", ("redirect", 307, "/sonarr/api/v3/system/status"))
    server.on("/sonarr/api/v3/system/status", ("json", 200, {"appName": "Sonarr"}))
    c = client(server.origin)
    assert c.get_json("/api/v3/system/status") == {"appName": "Sonarr"}
    assert server.seen[-1][2]["X-Api-Key"] == KEY


def test_redirect_of_a_post_is_followed_only_on_307_308(server):
    server.on("/api/v3/tag", ("redirect", 302, "/sonarr/api/v3/tag"))
    c = client(server.origin)
    with pytest.raises(ApiError) as err:
        c.send_json("POST", "/api/v3/tag", {"label": "x"})
    assert "followed only on 307/308" in str(err.value) and len(server.seen) == 1


# -- secrets in every form stay out of messages -------------------------------------------------------------------

def test_basic_token_echoed_by_the_server_is_redacted(server):
    """Issue #12: a server echoing NZBGet's Basic authorization showed the base64 token in the message."""
    server.on("/jsonrpc", ("echo", 200))
    c = NzbgetClient(server.origin, "nzbget", PASSWORD, sleep=lambda s: None)
    with pytest.raises(ApiError) as err:
        c.version()
    assert server.seen[0][2]["Authorization"] == "Basic " + BASIC, "the header really was sent"
    assert "not JSON" in str(err.value)
    no_secret_in(str(err.value))
    assert set(c.http.secrets) >= {PASSWORD, BASIC, quote_plus(PASSWORD)}, "every form is a no_log value"


def test_url_encoded_password_echoed_in_an_error_is_redacted(server):
    """The qBittorrent login form carries the password URL-encoded; an error page echoing the body must not show
    it (raw redaction alone misses p%40ss+word%2F%2B...)."""
    server.on("/api/v2/auth/login", ("echo", 500))
    c = QbittorrentClient(server.origin, password=PASSWORD, sleep=lambda s: None)
    with pytest.raises(ApiError) as err:
        c.connect()
    assert quote_plus(PASSWORD) in server.seen[0][3].decode(), "the form really carried it"
    no_secret_in(str(err.value))


def test_secret_in_the_url_is_redacted(server):
    server.on("/api/v3/x", ("json", 401, {"message": "bad key %s" % KEY}))
    c = client(server.origin)
    with pytest.raises(ApiError) as err:
        c.get_json("/api/v3/x", params={"apikey": KEY})
    no_secret_in(str(err.value))
    assert "********" in str(err.value)


# -- TLS ----------------------------------------------------------------------------------------------------------

def test_untrusted_certificate_is_not_retried(server, tmp_path):
    """Issue #12: a certificate error was retried 4-6 times with backoff (about a minute lost)."""
    tls = server.another(tls=self_signed_cert(str(tmp_path)))
    c = client(tls.origin, retries=5)
    with pytest.raises(ApiError) as err:
        c.get_json("/ping")
    assert c.requests == 1 and c.sleeps == [] and tls.handshakes == 1, "retried a TLS failure"
    message = str(err.value)
    assert message.startswith("sonarr: GET %s/ping failed: TLS failed for %s (not retried)" % (tls.hostport, tls.hostport))
    assert "CERTIFICATE_VERIFY_FAILED" in message and "validate_certs" in message and err.value.kind == "tls"


def test_untrusted_certificate_is_not_waited_for(server, tmp_path):
    """ArrClient waits for a starting app on the first request; a TLS failure is not a starting app."""
    tls = server.another(tls=self_signed_cert(str(tmp_path)))
    sleeps = []
    c = ArrClient("sonarr", tls.origin, KEY, wait_timeout=120, sleep=sleeps.append)
    with pytest.raises(ApiError) as err:
        c.list("rootfolder")
    assert sleeps == [] and tls.handshakes == 1 and err.value.kind == "tls"


def test_validate_certs_false_accepts_the_certificate(server, tmp_path):
    tls = server.another(tls=self_signed_cert(str(tmp_path)))
    tls.on("/ping", ("json", 200, {"status": "OK"}))
    assert client(tls.origin, validate_certs=False).get_json("/ping") == {"status": "OK"}


# -- retries ------------------------------------------------------------------------------------------------------

def test_retries_502_503_504_with_backoff_then_succeeds(server):
    server.on("/sonarr/ping", ("json", 502, {}), ("json", 503, {"errorMessage": "Sonarr is starting up"}),
              ("raw", 504, b"Gateway Timeout", "text/plain"), ("json", 200, {"status": "OK"}))
    c = client(server.origin + "/sonarr", backoff=0.5, max_backoff=1.5)
    assert c.get_json("/ping") == {"status": "OK"}
    assert c.sleeps == [0.5, 1.0, 1.5] and c.requests == 4


def test_gives_up_after_bounded_retries(server):
    server.on("/api/v3/rootfolder", ("raw", 502, b"bad gateway", "text/plain"))
    c = client(server.origin, retries=2)
    with pytest.raises(ApiError) as err:
        c.get_json("/api/v3/rootfolder")
    assert err.value.status == 502 and c.requests == 3 and err.value.transient
    assert str(err.value).startswith("sonarr: GET %s/api/v3/rootfolder -> 502: HTTP 502" % server.hostport)
    assert "gave up after 3 attempts" in str(err.value)


def test_connection_reset_is_retried(server):
    server.on("/ping", ("reset",), ("close",), ("json", 200, {"status": "OK"}))
    c = client(server.origin)
    assert c.get_json("/ping") == {"status": "OK"} and c.requests == 3 and len(c.sleeps) == 2


def test_connection_refused_is_retried_then_reported():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    c = client("http://127.0.0.1:%d" % port, retries=3, backoff=0.1)
    with pytest.raises(ApiError) as err:
        c.get_json("/ping")
    assert c.requests == 4 and len(c.sleeps) == 3
    assert err.value.status is None and err.value.transient
    assert "127.0.0.1:%d/ping failed: connection error" % port in str(err.value)
    assert "gave up after 4 attempts" in str(err.value)


def test_slow_answer_times_out_and_a_post_is_not_sent_twice(server):
    server.on("/api/v3/command", ("slow", 2, ("json", 201, {})))
    c = HttpClient("sonarr", server.origin, timeout=0.5, sleep=lambda s: None)
    with pytest.raises(ApiError) as err:
        c.send_json("POST", "/api/v3/command", {"name": "RssSync"})
    assert len(server.requests_to("/api/v3/command")) == 1 and "not retried: POST is not idempotent" in str(err.value)


def test_slow_answer_to_a_get_is_retried(server):
    server.on("/ping", ("slow", 2, ("json", 200, {})), ("json", 200, {"status": "OK"}))
    c = HttpClient("sonarr", server.origin, timeout=0.5, sleep=lambda s: None)
    assert c.get_json("/ping") == {"status": "OK"} and c.requests == 2


# -- waiting for a starting app -----------------------------------------------------------------------------------

def test_wait_until_ready_polls(server):
    server.on("/sonarr/ping", ("json", 500, {"status": "Error"}), ("json", 500, {"status": "Error"}),
              ("json", 200, {"status": "OK"}))
    c = client(server.origin + "/sonarr")
    assert c.wait_until_ready("/ping", timeout=30, interval=0.01).status == 200
    assert c.requests == 3


def test_wait_until_ready_stops_at_a_refused_key(server):
    server.on("/ping", ("json", 401, {"message": "Unauthorized"}))
    c = client(server.origin)
    with pytest.raises(ApiError) as err:
        c.wait_until_ready("/ping", timeout=30, interval=0.01)
    assert err.value.status == 401 and c.requests == 1
