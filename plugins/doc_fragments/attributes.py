# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The plugins that only read (host_info, role_plan, tier_server): documented once.
    READ_ONLY = r"""
attributes:
  check_mode:
    support: full
    description: It only reads, so it runs in check mode exactly as in a real run.
  diff_mode:
    support: none
    description: It changes nothing, so there is nothing to show.
  idempotent:
    support: full
    description: Never changes anything.
"""
