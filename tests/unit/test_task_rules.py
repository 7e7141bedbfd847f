# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rules every task of the collection keeps, checked on the task files themselves, and the
behaviour of ansible-core that one of them works around, checked on the core that runs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TASK_DIRS = ("roles", "playbooks", "molecule")


def _yaml_files():
    for top in TASK_DIRS:
        for path in sorted((ROOT / top).rglob("*.yml")):
            if ".build" in path.parts:
                continue
            yield path


def _dicts(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _dicts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _dicts(value)


def test_a_run_once_task_that_tolerates_an_unreachable_host_also_ignores_errors():
    """A run_once task is fatal to the whole play on an unreachable result, even an ignored
    one, unless it ignores errors too: the play would end silently after it (see below)."""
    wrong = []
    for path in _yaml_files():
        try:
            documents = list(yaml.safe_load_all(path.read_text()))
        except yaml.YAMLError:
            continue  # not Ansible YAML (e.g. a template); yamllint covers the syntax
        for task in _dicts(documents):
            tolerant = task.get("run_once") is True and task.get("ignore_unreachable") is True
            if tolerant and task.get("ignore_errors") is not True:
                wrong.append(f"{path.relative_to(ROOT)}: {task.get('name')}")
    assert wrong == []


def _closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed once the socket is: nothing listens there


@pytest.mark.parametrize("ignore_errors", [False, True])
def test_the_core_ends_the_play_after_an_ignored_unreachable_run_once_result(tmp_path, ignore_errors):
    """The reason for the rule above, on the ansible-core in use: a looped run_once task
    delegated to a host that refuses the connection, with ignore_unreachable, ends the play
    unless the task also ignores errors."""
    port = _closed_port()
    (tmp_path / "inventory.yml").write_text(
        yaml.safe_dump(
            {
                "all": {
                    "hosts": {
                        "here": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
                        "away": {"ansible_host": "127.0.0.1", "ansible_port": port},
                    }
                }
            }
        )
    )
    task = {
        "name": "Read every host",
        "ansible.builtin.ping": {},
        "delegate_to": "{{ item }}",
        "loop": ["away", "here"],
        "run_once": True,
        "ignore_unreachable": True,
        "failed_when": False,
        "register": "read",
    }
    if ignore_errors:
        task["ignore_errors"] = True
    play = {
        "name": "Play",
        "hosts": "here",
        "gather_facts": False,
        "tasks": [task, {"name": "After", "ansible.builtin.debug": {"msg": "REACHED-AFTER"}}],
    }
    (tmp_path / "play.yml").write_text(yaml.safe_dump([play], sort_keys=False))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_HOST_KEY_CHECKING="0", ANSIBLE_SSH_RETRIES="0")
    run = subprocess.run(
        [str(Path(sys.executable).with_name("ansible-playbook")), "-i", "inventory.yml", "play.yml"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Connection refused" in run.stdout + run.stderr  # the host was really unreachable
    reached = "REACHED-AFTER" in run.stdout
    assert reached is ignore_errors, run.stdout
    assert (run.returncode == 0) is ignore_errors, run.stdout
