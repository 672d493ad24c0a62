# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every wiring module shares around its client (private): the connection options and one ``main()`` tail.

- ``argument_spec(kind, **extra)``: the connection options of a kind of app (documented by the doc fragment of
  the same name: monsterr.mediaserver._arr, .qbittorrent, .nzbget, .bazarr, .overseerr) plus the module's own.
- ``run_module(module, client, run_fn, what)``: the one exit path of a module (community.docker's shape). It makes
  every form of the client's secrets no_log values (so results, warnings and ``-vvv`` never show them), runs
  ``run_fn(module, client)``, and turns each failure into one ``fail_json``: bad input (InputError) with its own
  message, an ApiError with app, method, host:port/path and status, and any other error while reading an answer
  with the last request's app, method, host:port/path and status (never a bare Python exception).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

from ansible_collections.monsterr.mediaserver.plugins.module_utils._http import ApiError

ARR_APPS = ("lidarr", "prowlarr", "radarr", "readarr", "sonarr")


class InputError(ValueError):
    """Bad input found before anything was written: the message names the item or key and what to do."""


def _common(wait_timeout):
    return dict(
        url=dict(type="str", required=True),
        validate_certs=dict(type="bool", default=True),
        timeout=dict(type="int", default=30),
        wait_timeout=dict(type="int", default=wait_timeout),
    )


def argument_spec(kind, apps=ARR_APPS, **extra):
    """The connection options of ``kind`` (arr, qbittorrent, nzbget, bazarr, overseerr) plus ``extra``.

    ``apps`` (kind arr): the Servarr apps the module works with; one app becomes the default of ``app``.
    """
    if kind == "arr":
        spec = _common(120)
        apps = list(apps)
        app = dict(type="str", choices=apps)
        if len(apps) == 1:
            app["default"] = apps[0]
        else:
            app["required"] = True
        spec.update(api_key=dict(type="str", required=True, no_log=True), app=app)
    elif kind == "qbittorrent":
        spec = _common(0)
        spec.update(username=dict(type="str", default="admin"), password=dict(type="str", no_log=True),
                    api_key=dict(type="str", no_log=True))
    elif kind == "nzbget":
        spec = _common(0)
        spec.update(username=dict(type="str", default="nzbget"), password=dict(type="str", no_log=True, required=True))
    elif kind in ("bazarr", "overseerr"):
        spec = _common(0)
        spec.update(api_key=dict(type="str", no_log=True, required=True))
    else:
        raise ValueError("unknown connection kind %r" % (kind,))
    spec.update(extra)
    return spec


def fail_api(module, exc, what=None, client=None, **extra):
    """``fail_json`` for an ApiError: the message (``what`` first when given), status, method, path, url."""
    result = dict(status=exc.status, method=exc.method, path=exc.path, url=exc.url)
    result.update(getattr(exc, "result", None) or {})
    if client is not None and hasattr(client, "requests"):
        result["requests"] = client.requests
    result.update(extra)
    module.fail_json(msg="%s: %s" % (what, exc) if what else str(exc), **result)


def protect_secrets(module, client):
    """Every form of the client's secrets (raw, Basic token, URL-encoded) becomes a no_log value of the module."""
    http = getattr(client, "http", client)
    for secret in getattr(http, "secrets", ()):
        module.no_log_values.add(secret)


def run_module(module, client, run_fn, what=None):
    """Run the module and exit: ``module.exit_json(**run_fn(module, client))`` or one ``fail_json``.

    ``what`` (a string or a callable taking the module) names the object in failure messages.
    """
    protect_secrets(module, client)
    label = what(module) if callable(what) else what
    try:
        result = run_fn(module, client)
    except InputError as exc:
        module.fail_json(msg=str(exc))
    except ApiError as exc:
        fail_api(module, exc, label, client)
    except (KeyError, TypeError, AttributeError, ValueError, IndexError) as exc:
        # An answer shaped other than the app's API says (a proxy, another app, another version): name the
        # request it came from instead of showing a bare Python exception.
        http = getattr(client, "http", client)
        method, path, status = getattr(http, "last", None) or ("?", "", None)
        error = http.error(method, path, status, "unexpected answer (%s: %s); is url this app's API at a "
                                                 "version the module supports?" % (type(exc).__name__, exc))
        fail_api(module, error, label, client, exception=traceback.format_exc())
    else:
        module.exit_json(**result)
