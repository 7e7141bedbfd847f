# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The logic of the nftables_unchanged filter (plugins/filter/nftables_unchanged.py documents it).

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils._nftables_unchanged import (
        nftables_unchanged)
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.groundwork.server.plugins.module_utils._nftables.core import (
    NftablesError,
    TableSpec,
    observed_paths,
    unchanged_by_record,
    validate,
)


def nftables_unchanged(observed, content=None, name="groundwork", family="inet", nft=None, paths=False):
    spec = TableSpec(name=name, family=family, content=content)
    try:
        validate(spec, "present" if not paths else "confirmed")
    except NftablesError as exc:
        raise AnsibleFilterError(f"nftables_unchanged: {exc}") from None
    if paths:
        return observed_paths(spec)
    if not isinstance(observed, dict):
        return False
    return unchanged_by_record(spec, nft, observed)
