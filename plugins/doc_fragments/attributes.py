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

    # The action plugins that read a host with one command instead of a module run
    # (host_info, role_plan).
    ONE_COMMAND = r"""
attributes:
  action:
    support: full
    description: Runs on the controller, which sends one command to the host.
"""

    # The modules that make the objects of a database server on the host exactly what lists
    # declare, in one call (mariadb_objects, postgresql_objects).
    DATABASE_OBJECTS = r"""
attributes:
  check_mode:
    support: full
    description: Reads the server and reports exactly what a real run would change, changing nothing.
  diff_mode:
    support: full
    description: >-
      A summary of the declared objects before and after, without passwords or what the server
      stores of them (hashes, verifiers).
  idempotent:
    support: full
    description: A second run with the same input changes nothing.
"""
