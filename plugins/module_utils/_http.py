# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one HTTP transport of the collection's modules (private: the leading underscore).

What every app client gets from here, and what tests/unit/plugins/module_utils/test_http.py proves against a
fault-injecting server on loopback:

- one error type, ApiError, whose message names the app, the method, ``host:port/path`` and the status, and
  never a secret;
- an answer that is not JSON, or JSON of the wrong shape, is an ApiError too (never a bare ValueError,
  KeyError or AttributeError);
- credentials never go to another origin: a redirect to another scheme, host or port is not followed and
  fails with "redirected to <url>: is the app behind the sign-on portal?"; a redirect on the same origin is
  followed (GET/HEAD always, other methods on 307/308 only);
- every form of a secret (raw, HTTP Basic token, URL-encoded) is blanked out of every message; ``secrets``
  lists those forms for AnsibleModule.no_log_values, which blanks them out of results and ``-vvv`` output;
- certificate and other TLS errors are not retried (they do not heal by waiting);
- connection errors and 502/503/504 are retried with exponential backoff, a bounded number of times, for every
  request (logins included); a timeout is retried only for an idempotent method (a POST may have been done);
- one polling loop (``poll``) for apps that are still starting.

Needs nothing on the managed host but Python's standard library and Ansible's module_utils.urls.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import socket
import ssl
import time

from ansible.module_utils.six import PY3, binary_type, raise_from, string_types, text_type
from ansible.module_utils.six.moves import http_client, http_cookiejar
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import quote, quote_plus, urlencode, urljoin, urlsplit
from ansible.module_utils.urls import Request, make_context

RETRY_STATUSES = (502, 503, 504)
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
IDEMPOTENT = ("GET", "HEAD", "PUT", "DELETE", "OPTIONS")
MAX_REDIRECTS = 5
REDACTED = "********"
# ApiError.kind: why a request failed, for the callers that decide whether to wait or retry.
TRANSIENT = "transient"   # connection refused/reset, timeout, 502/503/504: may heal by itself
TLS = "tls"               # certificate or handshake: does not heal by waiting
REDIRECT = "redirect"     # sent elsewhere: a configuration problem
ANSWER = "answer"         # not JSON, or JSON of the wrong shape
# Shapes for Response.json(): an object, a list, a list of objects.
LIST_OF_DICTS = (list, dict)


def sleep(seconds):
    """The clients' default sleep (tests pass their own)."""
    time.sleep(seconds)


def _to_text(value):
    if isinstance(value, binary_type):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, text_type) else text_type(value)


def secret_forms(secret, username=None):
    """Every form ``secret`` can take on the wire or in an echo: raw, URL-encoded, and with ``username`` the
    HTTP Basic token (base64 of ``username:secret``). Longest first, so a shorter form never splits a longer one."""
    if not isinstance(secret, string_types) or not secret:
        return []
    forms = set([secret, quote(secret, safe=""), quote(secret), quote_plus(secret)])
    if username is not None:
        token = base64.b64encode(("%s:%s" % (username, secret)).encode("utf-8")).decode("ascii")
        forms.update([token, quote(token, safe=""), token.rstrip("=")])
    return sorted((f for f in forms if f), key=len, reverse=True)


def shorten(text, limit=300):
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _shape_name(value):
    if value is None:
        return "empty"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, string_types):
        return "a string"
    return type(value).__name__


def _shape_ok(value, shape):
    if shape is None:
        return True
    if shape == LIST_OF_DICTS:
        return isinstance(value, list) and all(isinstance(v, dict) for v in value)
    return isinstance(value, shape)


def _expected(shape):
    return {dict: "an object", list: "a list", LIST_OF_DICTS: "a list of objects"}.get(shape, str(shape))


class ApiError(Exception):
    """A failed request: app, method, host:port/path, status and a short, secret-free reason.

    ``where`` is ``host:port`` plus the app's URL base; ``kind`` is TRANSIENT, TLS, REDIRECT, ANSWER or None.
    """

    def __init__(self, app, method, path, status=None, reason="", body=None, where="", kind=None):
        self.app = app
        self.method = method
        self.path = path
        self.status = status
        self.reason = reason
        self.body = body
        self.where = where
        self.kind = kind
        super(ApiError, self).__init__(self.message)

    @property
    def url(self):
        """``host:port/base/path`` of the request."""
        return "%s%s" % (self.where, self.path)

    @property
    def transient(self):
        return self.kind == TRANSIENT

    @property
    def fatal(self):
        """Waiting does not help: TLS, a redirect elsewhere, or the credentials refused."""
        return self.kind in (TLS, REDIRECT) or self.status in (401, 403)

    @property
    def message(self):
        outcome = "-> %s" % self.status if self.status is not None else "failed"
        text = "%s: %s %s %s" % (self.app, self.method, self.url, outcome)
        return "%s: %s" % (text, self.reason) if self.reason else text

    def replace(self, **changes):
        """A copy with some attributes changed (app, method, path, status, reason, body, where, kind)."""
        values = dict(app=self.app, method=self.method, path=self.path, status=self.status, reason=self.reason,
                      body=self.body, where=self.where, kind=self.kind)
        values.update(changes)
        return ApiError(**values)

    def __str__(self):
        return self.message


class Response(object):
    """An HTTP answer; ``json()`` turns a decoding or shape problem into the client's ApiError."""

    def __init__(self, status, headers, raw, client=None, method="GET", path=""):
        self.status = status
        self.headers = headers
        self.raw = raw
        self._client = client
        self.method = method
        self.path = path

    @property
    def text(self):
        return self.raw.decode("utf-8", "replace") if isinstance(self.raw, bytes) else (self.raw or "")

    def fail(self, reason, kind=ANSWER):
        if self._client is None:
            return ApiError("?", self.method, self.path, self.status, reason, self, kind=kind)
        return self._client.error(self.method, self.path, self.status, reason, self, kind=kind)

    def json(self, shape=None):
        """The decoded body (None when empty). ``shape``: dict, list or LIST_OF_DICTS; an empty body or another
        shape is an ApiError naming what came back."""
        text = self.text
        try:
            value = json.loads(text) if text.strip() else None
        except ValueError:
            ctype = (self.headers or {}).get("Content-Type") or (self.headers or {}).get("content-type") or "no type"
            raise_from(self.fail("answer is not JSON (%s): %s; is the URL the app's API, not a web page or a "
                                 "proxy's error page?" % (ctype, shorten(text, 120) or "empty")), None)
        if shape is not None and not _shape_ok(value, shape):
            raise self.fail("answer has the wrong shape: expected %s, got %s (%s)"
                            % (_expected(shape), _shape_name(value), shorten(text, 120)))
        return value


class HttpClient(object):
    """Requests against one app.

    :arg app: the app's name in messages, e.g. "sonarr".
    :arg base_url: scheme, host, port and URL base, e.g. "http://127.0.0.1:8989/sonarr".
    :arg secrets: strings to blank out of every message (API keys, passwords), in every form (secret_forms).
    :arg basic_auth: (username, password) sent as HTTP Basic on every request; the token counts as a secret.
    :arg retries: how often a connection error or 502/503/504 is tried again (with backoff).
    :arg sleep: injectable for tests.
    """

    def __init__(self, app, base_url, headers=None, timeout=30, retries=3, backoff=0.5, max_backoff=8.0,
                 validate_certs=True, basic_auth=None, secrets=(), sleep=None):
        self.app = app
        self.base_url = base_url.rstrip("/")
        parts = urlsplit(self.base_url)
        self.scheme = (parts.scheme or "http").lower()
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.scheme == "https" else 80)
        host = "[%s]" % self.host if ":" in self.host else self.host
        self.where = "%s:%s%s" % (host, self.port, parts.path.rstrip("/"))
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.sleep = sleep or globals()["sleep"]
        self.cookies = http_cookiejar.CookieJar()
        self.requests = 0
        self.last = None
        headers = dict(headers or {})
        forms = []
        for secret in secrets:
            forms.extend(secret_forms(secret))
        if basic_auth and basic_auth[1] is not None:
            user, password = basic_auth
            token = base64.b64encode(("%s:%s" % (user, password)).encode("utf-8")).decode("ascii")
            headers["Authorization"] = "Basic %s" % token
            forms.extend(secret_forms(password, user))
        self.secrets = sorted(set(forms), key=len, reverse=True)
        # One TLS context per client: Request builds (and loads the CA store into) a new one per request
        # otherwise, about 50 ms each, even for plain http. Redirects are never followed by urllib: request()
        # follows them itself, and only on the same origin (urllib would carry the credentials anywhere).
        self._request = Request(headers=headers, cookies=self.cookies, timeout=timeout, validate_certs=validate_certs,
                                follow_redirects="none", use_netrc=False,
                                context=make_context(validate_certs=validate_certs))

    # -- messages -------------------------------------------------------------------------------------------

    def redact(self, text):
        text = _to_text(text)
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def error(self, method, path, status=None, reason="", body=None, kind=None):
        """An ApiError of this client (secrets blanked out of path and reason)."""
        return ApiError(self.app, method, self.redact(path), status, self.redact(shorten(reason)), body,
                        where=self.where, kind=kind)

    # -- requests -------------------------------------------------------------------------------------------

    def _same_origin(self, url):
        parts = urlsplit(url)
        scheme = (parts.scheme or "").lower()
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            return False
        return scheme == self.scheme and (parts.hostname or "").lower() == self.host.lower() and port == self.port

    def request(self, method, path, params=None, json_body=None, form=None, headers=None, expect=None):
        """Send one request, retrying what is safe to retry; return a Response or raise ApiError.

        ``expect`` is the tuple of acceptable statuses (default: any 2xx). ``form`` may be a dict or a list of
        (name, value) pairs (a name given more than once is sent more than once).
        """
        method = method.upper()
        url = self.base_url + path
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params)
        data = None
        req_headers = dict(headers or {})
        if json_body is not None:
            data = json.dumps(json_body)
            req_headers.setdefault("Content-Type", "application/json")
        elif form is not None:
            data = urlencode(form)
            req_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if data is not None and PY3:
            data = data.encode("utf-8")

        attempt = 0
        redirects = 0
        while True:
            attempt += 1
            retry_reason = None
            response = None
            self.requests += 1
            self.last = (method, path, None)
            try:
                resp = self._request.open(method, url, data=data, headers=req_headers)
                response = Response(resp.getcode(), dict(resp.headers), resp.read(), self, method, path)
            except HTTPError as exc:
                if exc.code in REDIRECT_STATUSES:
                    url, method, data = self._redirect(exc, url, method, data, path, redirects)
                    redirects += 1
                    attempt -= 1
                    continue
                body = exc.read() if hasattr(exc, "read") else b""
                response = Response(exc.code, dict(exc.headers or {}), body, self, method, path)
            except (URLError, socket.error, socket.timeout, http_client.HTTPException, ssl.SSLError,
                    ssl.CertificateError) as exc:
                reason = getattr(exc, "reason", exc)
                if isinstance(reason, (ssl.SSLError, ssl.CertificateError)) or \
                        isinstance(exc, (ssl.SSLError, ssl.CertificateError)) or "CERTIFICATE_VERIFY_FAILED" in str(reason):
                    raise_from(self.error(method, path, None, "TLS failed for %s (not retried): %s. Trust the app's "
                                          "certificate on the managed host (its CA in the system store), or set "
                                          "validate_certs: false" % (self.where, reason), kind=TLS), None)
                timed_out = isinstance(reason, socket.timeout) or isinstance(exc, socket.timeout) or \
                    "timed out" in str(reason)
                # A refused or reset connection was never processed: safe to retry. A timeout on a
                # non-idempotent request may have been processed: do not send it twice.
                if timed_out and method not in IDEMPOTENT:
                    raise_from(self.error(method, path, None, "timed out after %ss (not retried: %s is not "
                                          "idempotent)" % (self.timeout, method), kind=TRANSIENT), None)
                retry_reason = "timed out after %ss" % self.timeout if timed_out else "connection error: %s" % (
                    reason or type(exc).__name__)
            if response is not None:
                self.last = (method, path, response.status)
                if response.status in RETRY_STATUSES:
                    retry_reason = "HTTP %s: %s" % (response.status, shorten(response.text, 120))
                elif expect is None and 200 <= response.status < 300 or expect is not None and response.status in expect:
                    return response
                else:
                    raise self.error(method, path, response.status, self.describe(response), response)
            if attempt > self.retries:
                status = response.status if response is not None else None
                raise self.error(method, path, status, "%s (gave up after %d attempts)" % (retry_reason, attempt),
                                 response, kind=TRANSIENT)
            self.sleep(min(self.max_backoff, self.backoff * (2 ** (attempt - 1))))

    def _redirect(self, exc, url, method, data, path, redirects):
        """(url, method, data) to follow a redirect on the same origin, or ApiError."""
        location = (exc.headers or {}).get("Location") or exc.geturl()
        target = urljoin(url, location)
        if not self._same_origin(target):
            raise_from(self.error(method, path, exc.code, "redirected to %s: is the app behind the sign-on portal? "
                                  "Give the app's own address as url (how the managed host reaches it directly); "
                                  "no credentials were sent there" % target, kind=REDIRECT), None)
        if redirects >= MAX_REDIRECTS:
            raise_from(self.error(method, path, exc.code, "more than %d redirects (last to %s)"
                                  % (MAX_REDIRECTS, target), kind=REDIRECT), None)
        if method not in ("GET", "HEAD") and exc.code not in (307, 308):
            raise_from(self.error(method, path, exc.code, "redirected to %s; a %s is followed only on 307/308 "
                                  "(check the URL base in url)" % (target, method), kind=REDIRECT), None)
        return target, method, data

    @staticmethod
    def describe(response):
        """A short reason from an error body: Servarr validation arrays, {"message": ...}, or text."""
        try:
            body = json.loads(response.text) if response.text.strip() else None
        except ValueError:
            return shorten(response.text)
        if isinstance(body, list):
            parts = []
            for failure in body:
                if not isinstance(failure, dict) or failure.get("isWarning"):
                    continue
                text = "%s: %s" % (failure.get("propertyName") or "-", failure.get("errorMessage", ""))
                if failure.get("detailedDescription"):
                    text += " (%s)" % failure["detailedDescription"]
                parts.append(text)
            return "; ".join(parts) or shorten(response.text)
        if isinstance(body, dict):
            for key in ("message", "errorMessage", "error", "msg"):
                if body.get(key):
                    return shorten(str(body[key]))
        return shorten(response.text)

    def get_json(self, path, shape=None, **kwargs):
        return self.request("GET", path, **kwargs).json(shape)

    def send_json(self, method, path, body, shape=None, **kwargs):
        return self.request(method, path, json_body=body, **kwargs).json(shape)

    # -- waiting --------------------------------------------------------------------------------------------

    def poll(self, probe, timeout, interval=2.0):
        """``probe()`` until it returns: for an app that is still starting. Any ApiError is waited out except
        a fatal one (TLS, a redirect elsewhere, 401/403); after ``timeout`` seconds the last error is raised,
        saying how long it waited."""
        deadline = time.time() + max(0, timeout or 0)
        while True:
            try:
                return probe()
            except ApiError as exc:
                if exc.fatal:
                    raise
                if time.time() >= deadline:
                    raise exc.replace(reason="not ready after %ss (last: %s)" % (timeout, exc.reason or exc.status))
            self.sleep(interval)

    def wait_until_ready(self, path, timeout, interval=2.0, ok=(200,)):
        """Poll ``path`` until it answers with a status in ``ok``."""
        return self.poll(lambda: self.request("GET", path, expect=ok), timeout, interval)
