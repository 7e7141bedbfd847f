# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The roles whose Python keeps a copy of their defaults (for a decision made where the play
does not define a variable) keep it equal to defaults/main.yml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible_collections.groundwork.server.plugins.plugin_utils import _postgresql_role, _tls_role

ROLES = Path(__file__).resolve().parents[4] / "roles"


@pytest.mark.parametrize(
    ("role", "copy"),
    [("tls", _tls_role.DEFAULTS), ("postgresql", _postgresql_role.VARIABLES)],
)
def test_the_python_copy_of_the_defaults_equals_the_defaults_file(role, copy):
    defaults = yaml.safe_load((ROLES / role / "defaults" / "main.yml").read_text())
    for name, value in copy.items():
        if name.startswith(f"{role}_"):
            assert name in defaults, f"{name} is not in roles/{role}/defaults/main.yml"
            assert value == defaults[name], name
