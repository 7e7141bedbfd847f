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


# --- step "decide": every role's decision for a host, from the run's inspection -----------


class _DecideTemplar:
    def template(self, value):
        return value

    def copy_with_new_env(self, available_variables=None, **_overrides):
        return self


class _Loader:
    def load_from_file(self, path, trusted_as_template=False):
        del path, trusted_as_template
        return None


class _Task:
    check_mode = False
    delegate_to = None


def _action():
    action = object.__new__(ra.RoleAction)
    action._loader = _Loader()
    action._templar = _DecideTemplar()
    action._task = _Task()
    return action


class _FakeRole:
    """A role that asks for /etc/a and plans what ``outcome`` says; it records the variables it saw."""

    def __init__(self, outcome, problems=()):
        self.outcome = outcome
        self.problems = list(problems)
        self.seen = []

    def validate(self, inputs, context):
        del context
        self.seen.append(dict(inputs))
        return {"step": "plan"}, self.problems

    def request(self, model, context):
        del model, context
        return {"files": ["/etc/a"]}

    def plan(self, model, inspection, context):
        del model, context
        assert inspection["files"] == {"/etc/a": ANSWER["files"]["/etc/a"]}
        plan = _Plan()
        plan.extend(self.outcome)
        return plan


def _Plan():
    from ansible_collections.groundwork.server.plugins.plugin_utils._plan import Plan

    return Plan()


def _change(kind, target):
    from ansible_collections.groundwork.server.plugins.plugin_utils._plan import Change

    return Change(kind, target, "differs")


TASK_VARS = {
    "inventory_hostname": "web1",
    "groups": {"all": ["web1"]},
    "ansible_facts": {ra.CACHE_FACT: CACHE},
}


def test_a_role_that_plans_no_change_from_the_runs_inspection_is_unchanged(monkeypatch):
    role = _FakeRole([])
    monkeypatch.setattr(ra, "role_module", lambda name: role)
    found = _action().verdict({"role": "base"}, TASK_VARS, CACHE)
    assert found["reason"] == ra._run_plan.UNCHANGED


def test_a_role_that_plans_changes_runs_with_its_packages(monkeypatch):
    role = _FakeRole([_change("package", "sudo"), _change("file", "/etc/a")])
    monkeypatch.setattr(ra, "role_module", lambda name: role)
    found = _action().verdict({"role": "base"}, TASK_VARS, CACHE)
    assert found["reason"].startswith("2 changes: package sudo")
    assert found["packages"] == ["sudo"]


def test_a_role_with_input_problems_runs_and_reports_them_itself(monkeypatch):
    monkeypatch.setattr(ra, "role_module", lambda name: _FakeRole([], problems=["base_x: bad"]))
    found = _action().verdict({"role": "base"}, TASK_VARS, CACHE)
    assert found["reason"] != ra._run_plan.UNCHANGED
    assert found["packages"] == []


def test_a_role_the_inspection_does_not_answer_runs(monkeypatch):
    monkeypatch.setattr(ra, "role_module", lambda name: _FakeRole([]))
    found = _action().verdict({"role": "base"}, TASK_VARS, {**CACHE, "run": "another run"})
    assert found["reason"] == ra.NOT_COVERED


def test_a_role_decides_with_its_defaults_under_the_plays_variables_and_its_constants_over_them(monkeypatch):
    role = _FakeRole([])
    monkeypatch.setattr(ra, "role_module", lambda name: role)
    files = {
        "defaults": {"base_a": "default", "base_b": "default"},
        "vars": {"base_c": "constant"},
    }
    monkeypatch.setattr(ra, "role_file", lambda loader, name, part: dict(files[part]))
    task_vars = {**TASK_VARS, "base_b": "inventory", "base_c": "inventory"}
    _action().verdict({"role": "base"}, task_vars, CACHE)
    seen = role.seen[0]
    assert (seen["base_a"], seen["base_b"], seen["base_c"]) == ("default", "inventory", "constant")


def test_a_role_that_decides_in_two_steps_gets_its_first_steps_result(monkeypatch):
    class TwoSteps(_FakeRole):
        def validate(self, inputs, context):
            self.seen.append(dict(inputs))
            if "__firewall_inspection" in inputs:
                return {"step": "plan"}, []
            return {"step": "inspect", "outside": []}, []

        def request(self, model, context):
            return None if model["step"] == "plan" else {"files": ["/etc/a"]}

        def plan(self, model, inspection, context):
            plan = _Plan()
            if model["step"] == "inspect":
                plan.data = {"report": "addresses"}
            else:
                plan.extend(self.outcome)
            return plan

    role = TwoSteps([_change("table", "inet groundwork")])
    monkeypatch.setattr(ra, "role_module", lambda name: role)
    found = _action().verdict({"role": "firewall"}, TASK_VARS, CACHE)
    assert found["reason"].startswith("1 change: table inet groundwork")
    assert role.seen[1]["__firewall_inspection"]["report"] == "addresses"
    assert role.seen[1]["__firewall_outside"] == []


@pytest.mark.parametrize(
    ("name", "model", "waits"),
    [
        ("tls", {"settings": {"ca_local": False, "inventory_wants_ca": True}}, True),
        ("tls", {"settings": {"ca_local": True, "inventory_wants_ca": True}}, False),
        ("tls", {"settings": {"ca_local": False, "inventory_wants_ca": False}}, False),
        ("firewall", {"step": "inspect", "outside": ["db9"]}, True),
        ("firewall", {"step": "inspect", "outside": []}, False),
        ("base", None, False),
    ],
)
def test_a_role_that_reads_more_than_the_inspection_decides_when_it_runs(name, model, waits):
    assert (ra.deferred(name, model) is not None) == waits


def test_a_tier_choice_that_is_not_a_role_fails_the_decision():
    task_vars = {**TASK_VARS, "groups": {"loadbalancers": ["web1"]}, "groundwork_web_server": "caddy"}
    result = _action().decide_for(task_vars)
    assert result["failed"] is True
    assert "caddy" in result["msg"]


DNS_DEFAULTS = {"dns_servers_group": "dnsservers", "dns_primary": "", "dns_mode": "serve"}


@pytest.mark.parametrize(
    ("extra", "roles", "problems"),
    [
        # no DNS server in the inventory: the run does not apply dns (auto)
        ({}, [], []),
        ({"groups": {"all": ["web1", "ns1"], "dnsservers": ["ns1"]}}, ["dns"], []),
        # the group renamed, a primary named, records published to an existing server
        (
            {"groups": {"all": ["web1", "ns1"], "nameservers": ["ns1"]}, "dns_servers_group": "nameservers"},
            ["dns"],
            [],
        ),
        ({"dns_primary": "web1"}, ["dns"], []),
        ({"dns_mode": "update"}, ["dns"], []),
        # groundwork_dns decides over the inventory
        ({"groundwork_dns": False, "groups": {"all": ["web1"], "dnsservers": ["web1"]}}, [], []),
        ({"groundwork_dns": True}, ["dns"], []),
        (
            {"groundwork_dns": "maybe"},
            [],
            ["groundwork_dns: 'maybe' is not a choice (allowed: 'auto', true or false)."],
        ),
    ],
)
def test_the_run_applies_dns_where_the_inventory_has_a_dns_server(monkeypatch, extra, roles, problems):
    monkeypatch.setattr(
        ra, "role_file", lambda loader, name, part: dict(DNS_DEFAULTS) if part == "defaults" else {}
    )
    task_vars = {**TASK_VARS, **extra}
    assert ra.optional_roles(_Loader(), task_vars, _DecideTemplar()) == (roles, problems)


def test_the_decision_asks_dns_only_where_the_run_applies_it(monkeypatch):
    monkeypatch.setattr(
        ra, "role_file", lambda loader, name, part: dict(DNS_DEFAULTS) if part == "defaults" else {}
    )
    asked = []

    def verdict(self, step, task_vars, cache):
        asked.append(step["role"])
        return ra._run_plan.verdict("x" if step["role"] == "dns" else ra._run_plan.UNCHANGED)

    monkeypatch.setattr(ra.RoleAction, "verdict", verdict)
    action = _action()
    action.add_group = None
    result = action.decide_for(TASK_VARS)
    assert asked == ["base", "firewall", "tls"] and result["run"] == []
    asked.clear()
    result = action.decide_for({**TASK_VARS, "groups": {"all": ["web1"], "dnsservers": ["web1"]}})
    assert asked == ["base", "firewall", "dns", "tls"]
    assert result["run"] == ["dns", "tls"]
    assert result["parent_groups"] == ["groundwork_dns_changes", "groundwork_tls_changes"]
    failed = action.decide_for({**TASK_VARS, "groundwork_dns": "often"})
    assert failed["failed"] is True and "groundwork_dns: 'often'" in failed["msg"]


def test_the_packages_wait_for_the_youngest_package_lists_the_roles_allow():
    task_vars = {"base_apt_cache_valid_time": 600, "tls_apt_cache_valid_time": "7200"}
    assert ra.apt_cache_valid_time(["base", "tls", "firewall"], task_vars, _Templar()) == 600
    assert ra.apt_cache_valid_time([], {}, _Templar()) == 3600


@pytest.mark.parametrize("core_api", [True, False])
def test_the_decision_groups_the_server_through_the_cores_api(monkeypatch, core_api):
    """ansible-core 2.21 no longer reads add_group from a result: the action calls its own
    add_group; earlier cores (no such method) apply the result's keys."""
    calls = []
    action = _action()
    if core_api:
        action.add_group = lambda name, parent_group_names=None: calls.append((name, parent_group_names))
    else:
        action.add_group = None  # as on cores before 2.21
    changes = {"base": ra._run_plan.UNCHANGED, "firewall": "1 change: table"}
    monkeypatch.setattr(
        ra.RoleAction,
        "verdict",
        lambda self, step, tv, cache: ra._run_plan.verdict(changes.get(step["role"], "x")),
    )
    result = action.decide_for(TASK_VARS)
    assert result["add_group"].startswith(ra._run_plan.DECIDED_PREFIX)
    assert "groundwork_firewall_changes" in result["parent_groups"]
    assert calls == ([(result["add_group"], result["parent_groups"])] if core_api else [])
