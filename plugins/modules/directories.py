#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: directories
short_description: Ensure many directories exist with one owner, group and mode, in one execution
version_added: 0.1.0
description:
  - Creates every missing directory of O(paths) (and its missing parents) and sets owner, group and mode
    on each listed directory.
  - One module execution for a whole tree, instead of one M(ansible.builtin.file) task per directory, so
    a no-op re-run of a media server's data tree costs one round trip instead of twenty.
  - Never deletes anything, and never touches what is inside a directory.
author:
  - monsterr.mediaserver developers (@monsterr)
extends_documentation_fragment:
  - ansible.builtin.files
attributes:
  check_mode:
    description: Reports what would be created or updated without touching the filesystem.
    support: full
  diff_mode:
    description: Shows the created and updated directories.
    support: full
  platform:
    description: Target platforms.
    support: full
    platforms: posix
options:
  paths:
    description:
      - Absolute paths of the directories. Parents that do not exist are created with the same attributes.
    type: list
    elements: path
    required: true
  overrides:
    description:
      - Owner, group and mode for single paths of O(paths) that differ from the common O(owner), O(group) and
        O(mode), keyed by the path; an omitted key keeps the common value. Lets one execution create
        directories that another layer shares (for example a webroot that certbot writes as root and
        nginx reads).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Create the media and downloads tree
  monsterr.mediaserver.directories:
    paths:
      - /data/media/tv
      - /data/media/movies
      - /data/downloads/torrents/tv
    owner: media
    group: media
    mode: "2775"

- name: Create app data, one directory readable by everyone
  monsterr.mediaserver.directories:
    paths: [/opt/monsterr/proxy, /opt/monsterr/proxy/acme]
    owner: media
    group: media
    mode: "0750"
    overrides:
      /opt/monsterr/proxy/acme: {owner: root, group: root, mode: "0755"}
"""

RETURN = r"""
created:
  description: Directories that did not exist and were (or in check mode would be) created, parents included.
  returned: always
  type: list
  elements: str
  sample: [/data/media/tv]
updated:
  description: Existing directories whose owner, group or mode was (or would be) changed.
  returned: always
  type: list
  elements: str
  sample: [/data/media]
"""

import os

from ansible.module_utils.basic import AnsibleModule


def _missing_chain(path):
    """The directories to create for path, outermost first."""
    chain = []
    while path and path != "/" and not os.path.lexists(path):
        chain.append(path)
        path = os.path.dirname(path)
    return list(reversed(chain))


def _overrides(module):
    """{normalised path: {owner, group, mode}} from the overrides option, checked."""
    out = {}
    for raw, attrs in (module.params["overrides"] or {}).items():
        if not isinstance(attrs, dict) or set(attrs) - {"owner", "group", "mode"}:
            module.fail_json(msg="overrides: '%s' must map to a dict of owner, group and mode, got %r" % (raw, attrs))
        out[os.path.normpath(raw)] = attrs
    return out


def run(module):
    overrides = _overrides(module)
    paths = []
    for raw in module.params["paths"]:
        path = os.path.normpath(raw)
        if not os.path.isabs(path):
            module.fail_json(msg="paths: '%s' is not absolute; give every directory as an absolute path" % raw)
        if os.path.lexists(path) and not os.path.isdir(path):
            module.fail_json(msg="paths: '%s' exists and is not a directory; move it away or drop it from paths" % raw)
        if path not in paths:
            paths.append(path)
    unknown = sorted(set(overrides) - set(paths))
    if unknown:
        module.fail_json(msg="overrides: %s not in paths; add them to paths or drop them from overrides"
                         % ", ".join(unknown))

    created, updated = [], []
    for path in paths:
        for new_dir in _missing_chain(path):
            if new_dir in created:
                continue
            created.append(new_dir)
            if not module.check_mode:
                try:
                    os.mkdir(new_dir)
                except OSError as exc:
                    module.fail_json(msg="cannot create '%s': %s" % (new_dir, exc.strerror), created=created, updated=updated)
    for path in created + [p for p in paths if p not in created]:
        if module.check_mode and path in created:
            continue
        file_args = module.load_file_common_arguments(module.params, path=path)
        for key, value in overrides.get(path, {}).items():
            file_args[key] = str(value) if key == "mode" else value
        if module.set_fs_attributes_if_different(file_args, False) and path not in created:
            updated.append(path)

    changed = bool(created or updated)
    before = {p: "absent" if p in created else "other attributes" for p in created + updated}
    after = dict((p, "directory") for p in created + updated)
    return dict(changed=changed, created=created, updated=updated,
                diff=dict(before=before, after=after))


def main():
    module = AnsibleModule(
        argument_spec=dict(paths=dict(type="list", elements="path", required=True),
                           overrides=dict(type="dict", default={})),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    module.exit_json(**run(module))


if __name__ == "__main__":
    main()
