# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every entry point of every role has an example (``examples`` of the entry point in
roles/<role>/meta/argument_specs.yml, shown by ansible-doc and the documentation site), and it
works: it is a playbook that names the role by its FQCN for that entry point, gives only
options that the roles document, and its values pass what the role runs before it touches a
host - the entry point's argument spec (ansible.builtin.validate_argument_spec, as at the start
of the role) and the role's own validation (groundwork.server.role_plan, step validate), run
by ansible-playbook with the role's defaults on an inventory of the three tiers."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COLLECTION = "groundwork.server"
SPECS = {path.parent.parent.name: path for path in sorted(ROOT.glob("roles/*/meta/argument_specs.yml"))}
INCLUDES = ("ansible.builtin.include_role", "ansible.builtin.import_role")

# The inventory the examples are written for: the three tiers of playbooks/site.yml, and the
# groups the "plan" entry points put the hosts a run changes into (here every host of the tier).
CHANGES_GROUPS = {
    "groundwork_nginx_changes": "loadbalancers",
    "groundwork_apache_changes": "loadbalancers",
    "groundwork_app_deploy": "appservers",
    "groundwork_postgresql_changes": "dbservers",
    "groundwork_mariadb_changes": "dbservers",
    "groundwork_dns_changes": "dnsservers",
}
INVENTORY = {
    "all": {
        "vars": {
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "vault_shop_db_password": "a-long-example-password",
            "vault_shop_report_password": "another-example-password",
            "vault_shop_secret_key": "an-example-secret-key",
            "vault_dns_transfer_key": "3K8jXKcPL8bUnhEiPt0pcUKgFtfBOfyp0hKwr9y7WZo=",
        },
        "children": {
            "loadbalancers": {"hosts": {"lb1.example.com": {"ansible_host": "203.0.113.10"}}},
            "appservers": {
                "hosts": {
                    "app1.example.com": {"ansible_host": "10.0.1.11"},
                    "app2.example.com": {"ansible_host": "10.0.1.12"},
                }
            },
            "dbservers": {"hosts": {"db1.example.com": {"ansible_host": "10.0.2.21"}}},
            "dnsservers": {
                "hosts": {
                    "ns1.example.com": {"ansible_host": "10.0.3.31"},
                    "ns2.example.com": {"ansible_host": "10.0.3.32"},
                }
            },
            **{group: {"children": {tier: {}}} for group, tier in CHANGES_GROUPS.items()},
        },
    }
}


def entry_points():
    for role, path in SPECS.items():
        for entry, spec in yaml.safe_load(path.read_text())["argument_specs"].items():
            yield role, entry, spec


ENTRY_POINTS = list(entry_points())
IDS = [f"{role}-{entry}" for role, entry, _spec in ENTRY_POINTS]


def options_of(role, entry="main"):
    return yaml.safe_load(SPECS[role].read_text())["argument_specs"][entry].get("options") or {}


def tasks_of(play):
    for key in ("pre_tasks", "tasks", "post_tasks"):
        yield from play.get(key) or []


def invocations(plays):
    """(play, role, entry point, variables) for each use of a role of this collection: roles
    of a play and include_role/import_role tasks, with the play's variables under theirs."""
    for play in plays:
        play_vars = play.get("vars") or {}
        for item in play.get("roles") or []:
            item = {"role": item} if isinstance(item, str) else item
            name = item.get("role") or item.get("name")
            yield play, name, item.get("tasks_from", "main"), {**play_vars, **(item.get("vars") or {})}
        for task in tasks_of(play):
            for action in INCLUDES:
                if action in task:
                    args = task[action]
                    entry = args.get("tasks_from", "main")
                    yield play, args["name"], entry, {**play_vars, **(task.get("vars") or {})}


def test_every_role_has_an_argument_spec():
    assert set(SPECS) == {path.name for path in (ROOT / "roles").iterdir() if path.is_dir()}


@pytest.mark.parametrize(("role", "entry", "spec"), ENTRY_POINTS, ids=IDS)
def test_the_example_is_a_playbook_that_uses_the_entry_point(role, entry, spec):
    assert isinstance(spec.get("examples"), str) and spec["examples"].strip(), f"{role} {entry}: no examples"
    plays = yaml.safe_load(spec["examples"])
    assert isinstance(plays, list) and plays
    for play in plays:
        assert play.get("name") and play.get("hosts"), play
        for task in tasks_of(play):
            assert task.get("name"), task
            actions = [key for key in task if key.count(".") >= 2]
            assert len(actions) == 1, f"a task without one action by FQCN: {task}"
    used = {(name, used_entry) for _play, name, used_entry, _vars in invocations(plays)}
    assert (f"{COLLECTION}.{role}", entry) in used, used
    for name, _entry in used:
        assert name.startswith(f"{COLLECTION}.") and name.split(".")[-1] in SPECS, name


@pytest.mark.parametrize(("role", "entry", "spec"), ENTRY_POINTS, ids=IDS)
def test_the_example_gives_only_documented_options(role, entry, spec):
    """A variable named like a role's option (<role>_...) is an option of that role: a typo
    in an example would otherwise pass unnoticed (the role ignores unknown variables)."""
    for _play, name, used_entry, variables in invocations(yaml.safe_load(spec["examples"])):
        used_role = name.split(".")[-1]
        for variable in variables:
            owner = next((other for other in SPECS if variable.startswith(f"{other}_")), None)
            if variable.startswith("vault_"):
                continue
            assert owner is not None, f"{name}: {variable} is no option of a role of the collection"
            options = options_of(owner, used_entry if owner == used_role else "main")
            assert variable in options, f"{name} ({used_entry}): {variable} is not an option of {owner}"


def validation_plays():
    """One play per use of a role in the examples: the same hosts, the role's defaults, the
    example's variables; the argument spec's check and the role's own validation."""
    plays = []
    for role, entry, spec in ENTRY_POINTS:
        for play, name, used_entry, variables in invocations(yaml.safe_load(spec["examples"])):
            used_role = name.split(".")[-1]
            defaults = ROOT / "roles" / used_role / "defaults" / "main.yml"
            hosts = play["hosts"]
            plays.append(
                {
                    "name": f"{role} {entry}: {play['name']} ({name}, {used_entry})",
                    "hosts": hosts,
                    "gather_facts": False,
                    "vars_files": [str(defaults)] if defaults.exists() else [],
                    "tasks": [
                        {
                            "name": "Check the variables against the entry point's argument spec",
                            "ansible.builtin.validate_argument_spec": {
                                "argument_spec": options_of(used_role, used_entry),
                            },
                            "vars": variables,
                        },
                        {
                            "name": "Validate them as the role does before it contacts the host",
                            "groundwork.server.role_plan": {"role": used_role, "step": "validate"},
                            "vars": variables,
                        },
                    ],
                }
            )
    return plays


def app_release(path):
    """The archive the application role's examples deploy: a Python web application."""
    files = {
        "requirements.txt": "gunicorn\n",
        "shop/__init__.py": "",
        "shop/wsgi.py": "def application(environ, start_response):\n    start_response('200 OK', [])\n"
        "    return [b'ok']\n",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"shop-1.4.2/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def test_the_examples_pass_the_roles_validation(tmp_path):
    plays = validation_plays()
    hosts = {play["hosts"] for play in plays}
    assert hosts <= {"all", "loadbalancers", "appservers", "dbservers", *CHANGES_GROUPS}, hosts
    # The playbook's directory, and a home directory outside it (the internal CA's default
    # directory is under the home, and the tls role refuses one inside the playbook's).
    playbook, home = tmp_path / "playbook", tmp_path / "home"
    playbook.mkdir()
    home.mkdir()
    (playbook / "inventory.yml").write_text(yaml.safe_dump(INVENTORY))
    (playbook / "examples.yml").write_text(yaml.safe_dump(plays, sort_keys=False))
    app_release(playbook / "files" / "shop-1.4.2.tar.gz")
    env = dict(
        os.environ,
        HOME=str(home),
        ANSIBLE_HOME=str(home / ".ansible"),
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"),
        ANSIBLE_NOCOLOR="1",
    )
    result = subprocess.run(
        ["ansible-playbook", "-i", str(playbook / "inventory.yml"), str(playbook / "examples.yml")],
        capture_output=True,
        text=True,
        env=env,
        cwd=playbook,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    # Every play ran on hosts (a pattern that matches none would check nothing).
    assert "skipping: no hosts matched" not in result.stdout
    recap = result.stdout.split("PLAY RECAP", 1)[1]
    assert "failed=0" in recap and "failed=1" not in recap
    assert result.stdout.count("TASK [Validate them as the role does") == len(plays)
