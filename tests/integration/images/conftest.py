# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The `containers` fixture of the image smoke tests (helpers in image_kit.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess

import pytest

from image_kit import Containers


@pytest.fixture
def containers(tmp_path):
    # The scratch tree must be traversable by the containers' users (tmp_path is 0700).
    os.chmod(str(tmp_path), 0o755)
    pool = Containers(tmp_path)
    yield pool
    pool.cleanup()
    # Files the containers wrote belong to their uids: hand the tree back so pytest can remove it.
    subprocess.run(["chown", "-R", "%d:%d" % (os.getuid(), os.getgid()), str(tmp_path)], check=False)
