# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: nftables_unchanged
short_description: Whether groundwork.server.nftables_table would change nothing, from an inspection
version_added: 0.1.0
author: groundwork developers
description:
  - Decides on the controller, from digests a read-only inspection of the host read, whether
    M(groundwork.server.nftables_table) with O(groundwork.server.nftables_table#module:state=present)
    and this content would report the table unchanged, so that a role can skip the module run.
  - V(true) only when no change waits for confirmation, the persisted boot file and the boot unit
    are exactly what the module writes (and the unit is enabled), and the live table is the one
    recorded when the persisted content was last confirmed.
  - Anything else, including an inspection that could not read everything, gives V(false), and the
    module then compares for itself (with nft's own listing of the content).
  - With O(paths=true) it returns instead the files the inspection has to look at.
options:
  _input:
    description:
      - What the inspection observed, as the firewall role's C(files/inspect.py) reports it
        (C(live), C(applied), C(pending), C(persist), C(unit), C(unit_enabled), C(readable), C(paths)).
      - Ignored with O(paths=true).
    type: dict
    required: true
  content:
    description: The body of the table, as given to the module.
    type: str
  name:
    description: The table's name.
    type: str
    default: groundwork
  family:
    description: The table's family.
    type: str
    default: inet
  nft:
    description: The path of nft on the host, as the module finds it (C(/usr/sbin/nft) first).
    type: str
  paths:
    description: Return the files to inspect instead of the decision.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Load the table only when it differs
  groundwork.server.nftables_table:
    name: groundwork
    content: "{{ content }}"
  when: not (inspection.table | groundwork.server.nftables_unchanged(content, nft=inspection.table.nft))
"""

RETURN = r"""
_value:
  description:
    - Whether the module would change nothing; with O(paths=true) the dict of C(state_dir),
      C(persist) and C(unit) paths.
  type: raw
"""


# The logic lives in plugin_utils/_nftables_unchanged.py: Ansible loads every filter file of a collection
# whenever one of its filters is used (in every worker process), so the files stay small
# and only the filter a task calls imports its code.


def nftables_unchanged(*args, **kwargs):
    from ansible_collections.groundwork.server.plugins.plugin_utils._nftables_unchanged import (
        nftables_unchanged as run,
    )

    return run(*args, **kwargs)


class FilterModule:
    def filters(self):
        return {"nftables_unchanged": nftables_unchanged}
