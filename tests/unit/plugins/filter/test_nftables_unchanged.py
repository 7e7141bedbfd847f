# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The filter is glue over module_utils/_nftables (the decision is tested with the module there)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.groundwork.server.plugins.module_utils._nftables import core
from ansible_collections.groundwork.server.plugins.plugin_utils._nftables_unchanged import nftables_unchanged

BODY = "chain input {\n  type filter hook input priority filter; policy drop;\n}"


def converged(name="groundwork"):
    spec = core.TableSpec(name=name, content=BODY)
    paths = core.paths_for(spec)
    listing = core.digest(core.normalize("table inet x {\n}\n"))
    return {
        "live": listing,
        "applied": listing,
        "pending": False,
        "persist": core.digest(core.persist_text(spec, paths)),
        "unit": core.digest(core.unit_text(spec, paths, "/usr/sbin/nft")),
        "unit_enabled": "enabled",
        "readable": True,
        "paths": core.observed_paths(spec),
    }


def test_the_paths_to_inspect():
    assert nftables_unchanged(None, paths=True) == {
        "state_dir": "/var/lib/groundwork/firewall",
        "persist": "/etc/groundwork/firewall/groundwork.nft",
        "unit": "/etc/systemd/system/groundwork-firewall.service",
    }
    assert nftables_unchanged(None, name="edge", paths=True)["unit"] == (
        "/etc/systemd/system/groundwork-firewall-edge.service"
    )


def test_converged_and_not():
    assert nftables_unchanged(converged(), BODY, nft="/usr/sbin/nft") is True
    assert nftables_unchanged(converged(), BODY.replace("drop", "accept"), nft="/usr/sbin/nft") is False
    assert nftables_unchanged(converged(), BODY, nft="/sbin/nft") is False
    assert nftables_unchanged(converged("edge"), BODY, name="edge", nft="/usr/sbin/nft") is True
    assert nftables_unchanged(converged("edge"), BODY, nft="/usr/sbin/nft") is False


@pytest.mark.parametrize("observed", [None, "text", []])
def test_no_inspection_is_never_unchanged(observed):
    assert nftables_unchanged(observed, BODY, nft="/usr/sbin/nft") is False


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "rollback-x"}, "name 'rollback-x' is not allowed"),
        ({"content": "} table ip nat {"}, "nftables_unchanged:"),
        ({"content": None}, "content is required"),
    ],
)
def test_bad_input_is_an_error(kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        nftables_unchanged(converged(), **{"content": BODY, **kwargs})
