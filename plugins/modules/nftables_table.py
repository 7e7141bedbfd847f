#!/usr/bin/python
# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: nftables_table
short_description: Own one nftables table, replace it atomically and roll it back unless confirmed
version_added: 0.1.0
description:
  - Manages exactly one nftables table (by default C(inet groundwork)). Every other table of
    the host, such as Docker's NAT and DNS rules, libvirt's or fail2ban's, is never flushed or
    altered; there is no C(flush ruleset) anywhere.
  - The table is replaced as one nft transaction from a file of the form
    C(table F N), C(delete table F N), C(table F N { <content> }), checked first with C(nft -c).
  - Whether anything changed is decided by comparing nft's listing of the live table with nft's
    own listing of the desired table, obtained by loading it in a throw-away network namespace
    (C(unshare --net)). Where C(unshare) cannot be used, the module compares the persisted file
    with the desired one and the live listing with the record of the last applied listing in
    C(/var/lib/groundwork/firewall/<name>.applied), and warns.
  - "Commit-confirm: with O(confirm_timeout) above zero, O(state=present) saves the previous
    table, arms a transient systemd timer (C(groundwork-firewall-rollback.timer)) that restores it
    after O(confirm_timeout) seconds, then applies the new table. O(state=confirmed), run after
    a fresh connection to the host proved that the management path still works, disarms the
    timer and persists the table. When the timer fired first, the rollback script restored the
    previous table (and wrote C(/var/lib/groundwork/firewall/<name>.rolled-back)), and
    O(state=confirmed) fails saying so (RV(rolled_back))."
  - The table is loaded at boot by C(groundwork-firewall.service) (installed and enabled by the
    module; C(nft -f) of O(persist_path), before C(network-pre.target)), never by Debian's
    C(nftables.service), whose C(/etc/nftables.conf) flushes the whole ruleset.
  - The persisted file is written only on confirmation (or directly with O(confirm_timeout=0)),
    so a change that rolls back or a host that restarts before the confirmation boots with the
    last confirmed table.
author: groundwork developers (@groundwork)
attributes:
  check_mode:
    support: full
    description: >-
      Reads the live table and checks the candidate with C(nft -c); writes nothing and arms
      nothing.
  diff_mode:
    support: full
    description: The diff is between nft's listing of the live table and of the desired one.
  idempotent:
    support: full
    description: >-
      Applying the same content again changes nothing. Write rules without C(counter) or
      C(quota) statements and without sets filled at run time, so that listings are stable.
options:
  name:
    description:
      - Name of the table. The boot unit, the rollback unit and the default O(persist_path) of a
        table other than V(groundwork) carry its name (C(groundwork-firewall-<name>.service),
        C(groundwork-firewall-rollback-<name>)).
    type: str
    default: groundwork
  family:
    description: Address family of the table.
    type: str
    choices: [inet, ip, ip6]
    default: inet
  content:
    description:
      - "The body of the table, the text between C(table <family> <name> {) and C(}) (chains,
        sets, rules). Required with O(state=present)."
      - With O(state=confirmed) it is optional; when given, it must be the content that
        O(state=present) applied.
      - Match interfaces by name (C(iifname), C(oifname)), except C(iif lo); the table must load
        in an empty network namespace and at boot before the interfaces exist.
    type: str
  state:
    description:
      - V(present) checks and applies the table (armed for rollback unless O(confirm_timeout=0)).
      - V(confirmed) disarms the rollback of the last V(present) run and persists its table; it
        fails when the rollback has already restored the previous table. With nothing waiting
        for confirmation it changes nothing.
      - V(absent) disarms any rollback, deletes only this table, removes the persisted file and
        disables and removes the boot unit.
    type: str
    choices: [present, absent, confirmed]
    default: present
  confirm_timeout:
    description:
      - Seconds after which the host restores the previous table unless O(state=confirmed) ran.
      - V(0) applies and persists directly, without commit-confirm.
    type: int
    default: 60
  persist_path:
    description:
      - The file loaded at boot by the boot unit. Defaults to
        C(/etc/groundwork/firewall/<name>.nft), that is C(/etc/groundwork/firewall/groundwork.nft).
      - An absolute path without blanks, quotes, backslashes, backticks, C(%), C($) or C(;).
    type: path
requirements:
  - nftables (C(nft)), systemd, and C(unshare) from util-linux for the exact comparison.
notes:
  - The module needs C(CAP_NET_ADMIN) and, for the comparison in a throw-away network namespace,
    C(CAP_SYS_ADMIN); both hold for root on a host and in a container started with
    C(--cap-add NET_ADMIN --cap-add SYS_ADMIN).
  - A new O(state=present) while the rollback of an earlier unconfirmed run is still armed
    disarms it when the live table is the one that run applied, and keeps the table saved
    by that run (the last confirmed one) as what to roll back to. Otherwise it fails.
  - The table's rules should not contain C(counter) statements, so that listings stay stable.
seealso:
  - name: Firewall
    description: docs/FIREWALL.md of the collection explains the role built on this module.
    link: https://github.com/groundwork/server/blob/main/README.md
"""

EXAMPLES = r"""
- name: Apply the firewall table, rolled back in 60 s unless confirmed
  groundwork.server.nftables_table:
    content: |
      chain input {
        type filter hook input priority filter; policy drop;
        iif lo accept
        ct state established,related accept
        tcp dport 22 accept
      }
  register: firewall_applied

- name: Reconnect to prove that the management path survived the new rules
  ansible.builtin.meta: reset_connection

- name: Wait for a fresh connection
  ansible.builtin.wait_for_connection:
    timeout: 30

- name: Confirm the firewall table (disarm the rollback, persist for boot)
  groundwork.server.nftables_table:
    state: confirmed

- name: Remove the firewall table, its boot file and unit
  groundwork.server.nftables_table:
    state: absent
"""

RETURN = r"""
armed:
  description: Whether a rollback timer is armed and waits for O(state=confirmed).
  returned: always
  type: bool
rolled_back:
  description: Whether the rollback fired before O(state=confirmed) (the module then fails).
  returned: always
  type: bool
restored:
  description: After a failed apply, whether the previous table was restored at once.
  returned: failure
  type: bool
rollback_unit:
  description: The transient systemd unit (C(.timer) and C(.service)) of the rollback.
  returned: always
  type: str
  sample: groundwork-firewall-rollback
boot_unit:
  description: The systemd unit that loads O(persist_path) at boot.
  returned: always
  type: str
  sample: groundwork-firewall.service
persist_path:
  description: The file loaded at boot.
  returned: always
  type: str
  sample: /etc/groundwork/firewall/groundwork.nft
comparison:
  description:
    - "How the table was compared: V(namespace) (nft's own listing of the content, from a
      throw-away network namespace) or V(record) (the record of the last applied listing)."
  returned: O(state=present)
  type: str
  sample: namespace
diff:
  description: nft's listing of the live table (before) and of the desired one (after).
  returned: O(state=present) and O(state=absent)
  type: dict
  sample:
    before_header: table inet groundwork (live)
    after_header: table inet groundwork (desired)
    before: ""
    after: "table inet groundwork {\n\tchain input {\n..."
previous_digest:
  description: SHA-256 of the listing of the table before the run (null when there was none).
  returned: always
  type: str
  sample: 9f2c7d0b4c1c3f6b8b2f0f1d0a1e7c3b5b7e8a6f4d2c1b0a9e8d7c6b5a4f3e2d
applied_digest:
  description: SHA-256 of the listing of the table after the run (null when not known in check mode).
  returned: always
  type: str
  sample: 4d2c1b0a9e8d7c6b5a4f3e2d9f2c7d0b4c1c3f6b8b2f0f1d0a1e7c3b5b7e8a6f
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.groundwork.server.plugins.module_utils._nftables.core import (
    NftablesError,
    TableSpec,
    paths_for,
    run_state,
)
from ansible_collections.groundwork.server.plugins.module_utils._nftables.host import LocalHost


def main():
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "default": "groundwork"},
            "family": {"type": "str", "choices": ["inet", "ip", "ip6"], "default": "inet"},
            "content": {"type": "str"},
            "state": {"type": "str", "choices": ["present", "absent", "confirmed"], "default": "present"},
            "confirm_timeout": {"type": "int", "default": 60},
            "persist_path": {"type": "path"},
        },
        required_if=[("state", "present", ["content"])],
        supports_check_mode=True,
    )
    # nft's "No such file or directory" (an absent table) is read in the C locale.
    module.run_command_environ_update = {"LANG": "C", "LC_ALL": "C", "LC_MESSAGES": "C"}
    params = module.params
    spec = TableSpec(
        name=params["name"],
        family=params["family"],
        content=params["content"],
        confirm_timeout=params["confirm_timeout"],
        persist_path=params["persist_path"],
    )
    host = LocalHost(module.run_command, module.get_bin_path)
    if host.nft is None:
        module.fail_json(msg="nft was not found on the host: install the nftables package")
    paths = paths_for(spec)
    values = {
        "armed": False,
        "rolled_back": False,
        "rollback_unit": paths.rollback_unit,
        "boot_unit": paths.boot_unit,
        "persist_path": paths.persist,
    }
    try:
        result = run_state(host, spec, params["state"], check_mode=module.check_mode)
    except NftablesError as exc:
        module.fail_json(msg=str(exc), changed=exc.changed, **values)
    for warning in result.warnings:
        module.warn(warning)
    values.update(
        changed=result.changed,
        armed=result.armed,
        rolled_back=result.rolled_back,
        previous_digest=result.previous_digest,
        applied_digest=result.applied_digest,
    )
    if result.comparison is not None:
        values["comparison"] = result.comparison
    if result.diff is not None:
        values["diff"] = result.diff
    if result.failed:
        module.fail_json(msg=result.msg, restored=result.restored, **values)
    module.exit_json(msg=result.msg, **values)


if __name__ == "__main__":
    main()
