# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one HTTP transport of the collection's modules (private: the leading underscore).

Owns what every app client needs and nothing app-specific: base URL, default headers, a cookie jar,
timeouts, retries with exponential backoff on connection errors and 502/503/504, waiting for an app
that is still starting, JSON decoding, and one error type, ApiError, that names the app, the method,
the path and the status, and never a secret.

Needs nothing on the managed host but Python's standard library and Ansible's module_utils.urls.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import time

from ansible.module_utils.six import PY3, string_types
from ansible.module_utils.six.moves import http_cookiejar
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import urlencode
from ansible.module_utils.urls import Request, make_context

RETRY_STATUSES = (502, 503, 504)
IDEMPOTENT = ("GET", "HEAD", "PUT", "DELETE", "OPTIONS")
REDACTED = "********"


class ApiError(Exception):
    """A failed request: app, method, path, status and a short, secret-free reason."""

    def __init__(self, app, method, path, status=None, reason="", body=None):
        self.app = app
        self.method = method
        self.path = path
        self.status = status
        self.reason = reason
        self.body = body
        super(ApiError, self).__init__(self.message)

    @property
    def message(self):
        where = "%s %s" % (self.method, self.path)
        outcome = "-> %s" % self.status if self.status is not None else "failed"
        text = "%s: %s %s" % (self.app, where, outcome)
        return "%s: %s" % (text, self.reason) if self.reason else text

    def __str__(self):
        return self.message


class Response(object):
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers
        self.raw = raw

    @property
    def text(self):
        return self.raw.decode("utf-8", "replace") if isinstance(self.raw, bytes) else (self.raw or "")

    def json(self):
        text = self.text
        return json.loads(text) if text.strip() else None


def api_key_argument_spec(**extra):
    """Connection options of the modules for apps that take one API key (Bazarr, Overseerr)."""
    spec = dict(
        url=dict(type="str", required=True),
        api_key=dict(type="str", no_log=True, required=True),
        validate_certs=dict(type="bool", default=True),
        timeout=dict(type="int", default=30),
        wait_timeout=dict(type="int", default=0),
    )
    spec.update(extra)
    return spec


def _short(text, limit=300):
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


class HttpClient(object):
    """Requests against one app.

    :arg app: the app's name in messages, e.g. "sonarr".
    :arg base_url: scheme, host, port and URL base, e.g. "http://127.0.0.1:8989/sonarr".
    :arg secrets: strings to blank out of every message (API keys, passwords).
    :arg sleep: injectable for tests.
    """

    def __init__(self, app, base_url, headers=None, timeout=30, retries=5, backoff=0.5, max_backoff=8.0,
                 validate_certs=True, url_username=None, url_password=None, secrets=(), sleep=time.sleep):
        self.app = app
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.secrets = [s for s in secrets if isinstance(s, string_types) and s]
        self.sleep = sleep
        self.cookies = http_cookiejar.CookieJar()
        self.requests = 0
        # One TLS context per client: Request builds (and loads the CA store into) a new one per request
        # otherwise, about 50 ms each, even for plain http.
        self._request = Request(headers=dict(headers or {}), cookies=self.cookies, timeout=timeout,
                                validate_certs=validate_certs, url_username=url_username,
                                url_password=url_password, force_basic_auth=bool(url_username),
                                context=make_context(validate_certs=validate_certs))

    def redact(self, text):
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def _error(self, method, path, status=None, reason="", body=None):
        return ApiError(self.app, method, self.redact(path), status, self.redact(_short(reason)), body)

    def request(self, method, path, params=None, json_body=None, form=None, headers=None, expect=None):
        """Send one request, retrying what is safe to retry; return a Response or raise ApiError.

        ``expect`` is the tuple of acceptable statuses (default: any 2xx).
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
        while True:
            attempt += 1
            retry_reason = None
            self.requests += 1
            try:
                resp = self._request.open(method, url, data=data, headers=req_headers)
                response = Response(resp.getcode(), dict(resp.headers), resp.read())
            except HTTPError as exc:
                body = exc.read() if hasattr(exc, "read") else b""
                response = Response(exc.code, dict(exc.headers or {}), body)
            except (URLError, socket.error, socket.timeout, ConnectionError) as exc:
                reason = getattr(exc, "reason", exc)
                timed_out = isinstance(reason, socket.timeout) or isinstance(exc, socket.timeout)
                # A refused or reset connection was never processed: safe to retry. A timeout on a
                # non-idempotent request may have been processed: do not send it twice.
                if timed_out and method not in IDEMPOTENT:
                    raise self._error(method, path, None, "timed out after %ss (not retried: %s is not idempotent)"
                                      % (self.timeout, method))
                retry_reason = "connection error: %s" % reason
                response = None
            if response is not None:
                if response.status in RETRY_STATUSES:
                    retry_reason = "HTTP %s: %s" % (response.status, _short(response.text, 120))
                elif expect is None and 200 <= response.status < 300 or expect is not None and response.status in expect:
                    return response
                else:
                    raise self._error(method, path, response.status, self.describe(response), response)
            if attempt > self.retries:
                status = response.status if response is not None else None
                raise self._error(method, path, status, "%s (gave up after %d attempts)" % (retry_reason, attempt),
                                  response)
            self.sleep(min(self.max_backoff, self.backoff * (2 ** (attempt - 1))))

    @staticmethod
    def describe(response):
        """A short reason from an error body: Servarr validation arrays, {"message": ...}, or text."""
        try:
            body = response.json()
        except ValueError:
            return _short(response.text)
        if isinstance(body, list):
            parts = []
            for failure in body:
                if not isinstance(failure, dict) or failure.get("isWarning"):
                    continue
                text = "%s: %s" % (failure.get("propertyName") or "-", failure.get("errorMessage", ""))
                if failure.get("detailedDescription"):
                    text += " (%s)" % failure["detailedDescription"]
                parts.append(text)
            return "; ".join(parts) or _short(response.text)
        if isinstance(body, dict):
            for key in ("message", "errorMessage", "error", "msg"):
                if body.get(key):
                    return _short(str(body[key]))
        return _short(response.text)

    def get_json(self, path, **kwargs):
        return self.request("GET", path, **kwargs).json()

    def send_json(self, method, path, body, **kwargs):
        return self.request(method, path, json_body=body, **kwargs).json()

    def wait_until_ready(self, path, timeout, interval=2.0, ok=(200,)):
        """Poll ``path`` until it answers with a status in ``ok``: for an app that is still starting."""
        deadline = time.time() + timeout
        last = None
        while True:
            try:
                response = self.request("GET", path, expect=ok)
                return response
            except ApiError as exc:
                last = exc
            if time.time() >= deadline:
                raise self._error("GET", path, last.status if last else None,
                                  "not ready after %ss (last: %s)" % (timeout, last.reason if last else "no answer"))
            self.sleep(interval)
