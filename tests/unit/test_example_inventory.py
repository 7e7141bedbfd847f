# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""inventories/example loads, has the three tiers, and its secrets are vaulted values."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "inventories" / "example"
PASSWORD = INVENTORY / "vault-password.example"


def ansible_inventory(*args):
    result = subprocess.run(
        ["ansible-inventory", "-i", str(INVENTORY), "--vault-password-file", str(PASSWORD), *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(result.stdout)


def test_the_example_has_the_three_tiers():
    listing = ansible_inventory("--list")
    for group in ("loadbalancers", "appservers", "dbservers"):
        assert listing[group]["hosts"], group
    assert len(listing["appservers"]["hosts"]) == 2


def test_secrets_are_vault_values_that_the_example_password_opens():
    text = (INVENTORY / "group_vars" / "all" / "vault.yml").read_text()
    assert text.count("!vault |") == 2
    assert "change-me" not in text
    variables = ansible_inventory("--host", "db1.example.com")
    assert variables["postgresql_require_vaulted_passwords"] is True
    assert variables["tls_acme_directory"] == "letsencrypt"
