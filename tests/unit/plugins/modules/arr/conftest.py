# -*- coding: utf-8 -*-
# Copyright: monsterr.mediaserver developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the Servarr module tests: the test double started in-process."""

from ansible_collections.monsterr.mediaserver.tests.doubles.arr_harness import servarr  # noqa: F401  pylint: disable=unused-import
