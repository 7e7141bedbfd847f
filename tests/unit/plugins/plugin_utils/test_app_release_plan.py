# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest
from ansible_collections.groundwork.server.plugins.plugin_utils._app_release_plan import app_release_plan


def state(current, releases, history):
    return {"current": current, "releases": releases, "history": history}


@pytest.mark.parametrize(
    ("given", "version", "rollback", "kept", "expected"),
    [
        # first deploy
        (state(None, [], []), "1", False, 3, {"target": "1", "history": ["1"], "remove": []}),
        # no change
        (state("1", ["1"], ["1"]), "1", False, 3, {"target": "1", "history": ["1"], "remove": []}),
        # a new version, within the kept count
        (state("1", ["1", "2"], ["1"]), "2", False, 3, {"target": "2", "history": ["1", "2"], "remove": []}),
        # the oldest release goes
        (
            state("3", ["1", "2", "3", "4"], ["1", "2", "3"]),
            "4",
            False,
            2,
            {"target": "4", "history": ["3", "4"], "remove": ["1", "2"]},
        ),
        # a failed release (never live) goes first
        (
            state("2", ["1", "2", "3", "4"], ["1", "2"]),
            "4",
            False,
            3,
            {"target": "4", "history": ["1", "2", "4"], "remove": ["3"]},
        ),
        # rollback: the release live before the version, repeated: stays there
        (
            state("2", ["1", "2"], ["1", "2"]),
            "2",
            True,
            3,
            {"target": "1", "history": ["1", "2", "1"], "remove": []},
        ),
        (
            state("1", ["1", "2"], ["1", "2", "1"]),
            "2",
            True,
            3,
            {"target": "1", "history": ["1", "2", "1"], "remove": []},
        ),
        # rollback skips releases whose directory is gone
        (
            state("3", ["1", "3"], ["1", "2", "3"]),
            "3",
            True,
            3,
            {"target": "1", "history": ["1", "3", "1"], "remove": []},
        ),
        # kept 1: only the live release stays
        (state("1", ["1", "2"], ["1"]), "2", False, 1, {"target": "2", "history": ["2"], "remove": ["1"]}),
    ],
)
def test_plan(given, version, rollback, kept, expected):
    plan = app_release_plan(given, version, rollback=rollback, kept=kept)
    assert plan["error"] == ""
    assert {key: plan[key] for key in expected} == expected


@pytest.mark.parametrize(
    ("given", "version"),
    [
        (state("1", ["1"], ["1"]), "1"),
        (state(None, [], []), "1"),
        (state("2", ["2"], ["1", "2"]), "2"),  # the earlier release is gone
        (state("2", ["1", "2"], ["1", "2"]), "5"),  # never deployed
    ],
)
def test_rollback_without_a_previous_release(given, version):
    plan = app_release_plan(given, version, rollback=True)
    assert plan["target"] is None
    assert plan["remove"] == []
    assert plan["error"].startswith(f"app_rollback: there is no release before '{version}' to return to")
