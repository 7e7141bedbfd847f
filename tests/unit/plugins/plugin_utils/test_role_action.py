# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One inspection per host per run: requests merge, and a role plans from the run's
inspection only when it answers everything the role asks."""

from __future__ import annotations

import pytest
from ansible_collections.groundwork.server.plugins.plugin_utils import _role_action as ra

ANSWER = {
    "os": {"id": "debian", "version_id": "12"},
    "files": {"/etc/a": {"state": "absent"}, "/etc/b": {"state": "absent"}},
    "dirs": {"/etc/d": {}},
    "packages": {"nginx": "installed", "openssl": "installed"},
    "units": {"nginx.service": {"active": "active", "enabled": "enabled"}},
    "probes": {"nginx": {"version": "1.22.1"}},
}
CACHE = {"run": ra.run_id(), "answer": ANSWER, "args": {"nginx": {"names": ["shop"]}}}


@pytest.mark.parametrize(
    ("cache", "request_", "covered"),
    [
        (CACHE, {"files": ["/etc/a"], "packages": ["nginx"]}, True),
        (CACHE, {"files": ["/etc/a", "/etc/b"], "dirs": ["/etc/d"], "probe": {"names": ["shop"]}}, True),
        # a file, a package, a unit or a directory not read
        (CACHE, {"files": ["/etc/c"]}, False),
        (CACHE, {"packages": ["apache2"]}, False),
        (CACHE, {"units": ["apache2.service"]}, False),
        (CACHE, {"dirs": ["/etc/e"]}, False),
        # the probe asked with other arguments (a certificate added since)
        (CACHE, {"probe": {"names": ["shop", "api"]}}, False),
        # cleared by a role that changed the host, or never read
        ({}, {"files": ["/etc/a"]}, False),
        # kept by a fact cache from another run
        ({**CACHE, "run": "1:2"}, {"files": ["/etc/a"]}, False),
        (None, {"files": ["/etc/a"]}, False),
    ],
)
def test_a_cached_inspection_serves_only_a_request_it_covers(cache, request_, covered):
    part = ra.from_cache(cache, "nginx", request_)
    assert (part is not None) == covered
    if covered:
        assert set(part["files"]) == set(request_.get("files", []))
        assert part["os"] == ANSWER["os"]
        assert part["probe"] == (ANSWER["probes"]["nginx"] if "probe" in request_ else None)


def test_requests_merge_without_repeats(monkeypatch):
    monkeypatch.setattr(ra, "probe_source", lambda name: f"# probe of {name}")
    merged = ra.merge_requests(
        {
            "nginx": {"files": ["/etc/a", "/etc/b"], "packages": ["nginx"], "probe": {"x": 1}},
            "base": {"files": ["/etc/b", "/etc/c"], "packages": ["nginx", "sudo"], "units": ["ssh.service"]},
        }
    )
    assert merged["files"] == ["/etc/b", "/etc/c", "/etc/a"]
    assert merged["packages"] == ["nginx", "sudo"]
    assert merged["units"] == ["ssh.service"]
    assert merged["probes"] == {"nginx": {"source": "# probe of nginx", "args": {"x": 1}}}


class _Templar:
    def template(self, value):
        return value


@pytest.mark.parametrize(
    ("host", "variables", "roles"),
    [
        ("lb1", {}, ["nginx"]),
        ("db1", {}, ["postgresql"]),
        ("app1", {}, ["app"]),
        ("lb1", {"groundwork_web_server": "apache"}, ["apache"]),
        ("db1", {"groundwork_database": "mariadb"}, ["mariadb"]),
        ("other", {}, []),
        ("db1", {"groundwork_dbservers": "databases"}, []),
        ("db2", {"groundwork_dbservers": "databases"}, ["postgresql"]),
    ],
)
def test_the_roles_of_a_hosts_tiers(host, variables, roles):
    groups = {"loadbalancers": ["lb1"], "dbservers": ["db1"], "appservers": ["app1"], "databases": ["db2"]}
    task_vars = {"inventory_hostname": host, "groups": groups, **variables}
    assert ra.tier_roles(task_vars, _Templar()) == roles


class _RecordingTemplar:
    def __init__(self):
        self.seen = []

    def template(self, value):
        self.seen.append(value)
        return value


def test_inputs_never_template_a_deprecated_key_of_a_registered_result():
    # A loop without items registers skipped_reason next to skip_reason; ansible-core 2.21
    # warns whenever it is templated. Inputs hands the templar the result without it.
    empty_loop = {"changed": False, "skipped": True, "skip_reason": "No items", "skipped_reason": "No items"}
    templar = _RecordingTemplar()
    inputs = ra.Inputs(templar, {"__postgresql_sources": {**empty_loop, "results": []}, "x": {"a": 1}})
    assert inputs["__postgresql_sources"] == {
        "changed": False,
        "skipped": True,
        "skip_reason": "No items",
        "results": [],
    }
    assert inputs["x"] == {"a": 1}
    assert all("skipped_reason" not in value for value in templar.seen)
    assert len(templar.seen) == 2
