# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""files_changed compares like service_config: checked against the module's own planner."""

from __future__ import annotations

import hashlib

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.groundwork.server.plugins.module_utils._service_config.core import (
    FileSpec,
    FileState,
    parse_mode,
    plan,
)
from ansible_collections.groundwork.server.plugins.plugin_utils._files_changed import files_changed

USERS = {"root": 0, "www-data": 33}
GROUPS = {"root": 0, "www-data": 33, "groundwork-tls": 990}


def file_state(content, owner="root", group="root", mode="0644"):
    return {
        "state": "file",
        "sha256": hashlib.sha256(content.encode()).hexdigest(),
        "size": len(content),
        "owner": owner,
        "uid": USERS.get(owner, 1000),
        "group": group,
        "gid": GROUPS.get(group, 1000),
        "mode": mode,
    }


class FakeHost:
    """service_config's view of the same host the states describe."""

    def __init__(self, contents, states, entries):
        self.contents = contents
        self.states = states
        self.entries = entries

    def stat(self, path):
        state = self.states.get(path, {"state": "absent"})
        if state["state"] == "file":
            return FileState(
                content=self.contents[path].encode(),
                uid=state["uid"],
                gid=state["gid"],
                mode=int(state["mode"], 8),
            )
        if state["state"] == "link":
            return FileState(link=state["target"], uid=0, gid=0)
        if state["state"] == "other" or path in {
            f"{d}/{n}" for d, e in self.entries.items() for n, k in e.items() if k == "dir"
        }:
            return None
        kind = next((k for d, e in self.entries.items() for n, k in e.items() if f"{d}/{n}" == path), None)
        if kind == "file":
            return FileState(content=b"x", uid=0, gid=0, mode=0o644)
        if kind == "link":
            return FileState(link="x", uid=0, gid=0)
        return None

    def listdir(self, path):
        return list(self.entries.get(path, {}))

    def uid(self, owner):
        return USERS[owner]

    def gid(self, group):
        return GROUPS[group]


CONTENT = "server_tokens off;\n"
CASES = {
    "same": ({"path": "/etc/a", "content": CONTENT}, {"/etc/a": file_state(CONTENT)}, False),
    "other content": ({"path": "/etc/a", "content": CONTENT + "#"}, {"/etc/a": file_state(CONTENT)}, True),
    "missing": ({"path": "/etc/a", "content": CONTENT}, {"/etc/a": {"state": "absent"}}, True),
    "other mode": (
        {"path": "/etc/a", "content": CONTENT, "mode": "0640"},
        {"/etc/a": file_state(CONTENT)},
        True,
    ),
    "mode without leading zero": (
        {"path": "/etc/a", "content": CONTENT, "mode": "644"},
        {"/etc/a": file_state(CONTENT)},
        False,
    ),
    "other owner": (
        {"path": "/etc/a", "content": CONTENT, "owner": "www-data"},
        {"/etc/a": file_state(CONTENT)},
        True,
    ),
    "other group": (
        {"path": "/etc/a", "content": CONTENT, "group": "groundwork-tls"},
        {"/etc/a": file_state(CONTENT)},
        True,
    ),
    "same owner and group by name": (
        {
            "path": "/etc/a",
            "content": CONTENT,
            "owner": "www-data",
            "group": "groundwork-tls",
            "mode": "0640",
        },
        {"/etc/a": file_state(CONTENT, "www-data", "groundwork-tls", "0640")},
        False,
    ),
    "a link where a file belongs": (
        {"path": "/etc/a", "content": CONTENT},
        {"/etc/a": {"state": "link", "target": "/etc/b"}},
        True,
    ),
    "a directory where a file belongs": (
        {"path": "/etc/a", "content": CONTENT},
        {"/etc/a": {"state": "other"}},
        True,
    ),
    "absent and absent": ({"path": "/etc/a", "state": "absent"}, {"/etc/a": {"state": "absent"}}, False),
    "absent but present": ({"path": "/etc/a", "state": "absent"}, {"/etc/a": file_state(CONTENT)}, True),
    "absent but a link": (
        {"path": "/etc/a", "state": "absent"},
        {"/etc/a": {"state": "link", "target": "x"}},
        True,
    ),
    "unicode": ({"path": "/etc/a", "content": "grüße\n"}, {"/etc/a": file_state("grüße\n")}, False),
}


@pytest.mark.parametrize(("spec", "states", "expected"), CASES.values(), ids=CASES.keys())
def test_like_service_config(spec, states, expected):
    assert (files_changed([spec], states) == ["/etc/a"]) is expected
    contents = {"/etc/a": CONTENT if spec.get("content") != "grüße\n" else "grüße\n"}
    host = FakeHost(contents, states, {})
    module_spec = FileSpec(
        path=spec["path"],
        content=spec.get("content"),
        state=spec.get("state", "present"),
        owner=spec.get("owner", "root"),
        group=spec.get("group", "root"),
        mode=parse_mode(spec.get("mode", "0644")),
    )
    assert bool(plan(host, [module_spec], [])) is expected


def directory(owner="root", group="root", mode="0755"):
    return {
        "state": "directory",
        "owner": owner,
        "uid": USERS.get(owner, 1000),
        "group": group,
        "gid": GROUPS.get(group, 1000),
        "mode": mode,
    }


@pytest.mark.parametrize(
    ("spec", "state", "expected"),
    [
        ({"state": "directory"}, directory(), False),
        ({"state": "directory"}, directory("www-data", "www-data", "0700"), False),
        ({"state": "directory", "mode": "0750"}, directory(mode="0755"), True),
        (
            {"state": "directory", "mode": "0750", "group": "www-data"},
            directory("root", "www-data", "0750"),
            False,
        ),
        ({"state": "directory", "owner": "www-data"}, directory(), True),
        ({"state": "directory"}, {"state": "absent"}, True),
        ({"state": "directory"}, file_state(CONTENT), True),
        ({"state": "link", "src": "releases/2"}, {"state": "link", "target": "releases/2"}, False),
        ({"state": "link", "src": "releases/2"}, {"state": "link", "target": "releases/1"}, True),
        ({"state": "link", "src": "releases/2"}, directory(), True),
        (
            {"sha256": hashlib.sha256(CONTENT.encode()).hexdigest(), "mode": "0755"},
            file_state(CONTENT, mode="0755"),
            False,
        ),
        ({"sha256": hashlib.sha256(b"other").hexdigest()}, file_state(CONTENT), True),
        ({}, file_state(CONTENT), True),  # neither content nor digest: cannot be the same
    ],
)
def test_directories_links_and_digests(spec, state, expected):
    assert (files_changed([{"path": "/srv/a", **spec}], {"/srv/a": state}) == ["/srv/a"]) is expected


def test_a_path_that_was_not_read_counts_as_changed():
    assert files_changed([{"path": "/etc/a", "content": ""}], {}) == ["/etc/a"]


def test_paths_are_normalised_like_the_module():
    states = {"/etc/nginx/nginx.conf": file_state(CONTENT)}
    assert files_changed([{"path": "/etc/nginx//nginx.conf", "content": CONTENT}], states) == []


def test_leftovers_in_owned_directories():
    specs = [{"path": "/etc/nginx/sites-enabled/shop.conf", "content": CONTENT}]
    states = {"/etc/nginx/sites-enabled/shop.conf": file_state(CONTENT)}
    entries = {
        "/etc/nginx/sites-enabled": {"shop.conf": "file", "old.conf": "file", "link": "link", "sub": "dir"}
    }
    changed = files_changed(specs, states, owned_dirs=["/etc/nginx/sites-enabled/"], entries=entries)
    assert changed == ["/etc/nginx/sites-enabled/link", "/etc/nginx/sites-enabled/old.conf"]
    # directories are not removed by service_config either
    entries["/etc/nginx/sites-enabled"] = {"shop.conf": "file", "sub": "dir"}
    assert files_changed(specs, states, owned_dirs=["/etc/nginx/sites-enabled"], entries=entries) == []


def test_an_owned_directory_that_was_not_listed_counts_as_changed():
    assert files_changed([], {}, owned_dirs=["/etc/x"], entries={}) == ["/etc/x"]


def test_bad_input():
    with pytest.raises(AnsibleFilterError, match="expects a list of file specs"):
        files_changed({"path": "/etc/a"}, {})
