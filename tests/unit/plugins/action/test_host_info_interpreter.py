# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which Python host_info starts on the host."""

from __future__ import annotations

import pytest
from ansible_collections.groundwork.server.plugins.plugin_utils._host_info import interpreter


class Templar:
    def template(self, value):
        return value.replace("{{ py }}", "/opt/python3")


@pytest.mark.parametrize(
    ("task_vars", "expected"),
    [
        ({}, "/usr/bin/python3"),
        ({"ansible_python_interpreter": "/usr/local/bin/python3.12"}, "/usr/local/bin/python3.12"),
        ({"ansible_python_interpreter": "{{ py }}"}, "/opt/python3"),
        ({"ansible_python_interpreter": "auto_silent"}, "/usr/bin/python3"),
        (
            {
                "ansible_python_interpreter": "auto",
                "ansible_facts": {"discovered_interpreter_python": "/usr/bin/python3.11"},
            },
            "/usr/bin/python3.11",
        ),
        ({"ansible_facts": {"discovered_interpreter_python": "/usr/bin/python3.13"}}, "/usr/bin/python3.13"),
    ],
)
def test_interpreter(task_vars, expected):
    assert interpreter(task_vars, Templar()) == expected
