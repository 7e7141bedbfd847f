# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""groundwork.server.firewall's decision, run by groundwork.server.role_plan (role: firewall).

The rules of a host depend on the addresses of other hosts, which only their own
inspection tells. So the role decides in two steps of the same action (tasks/decide.yml):

1. inspect (no ``__firewall_inspection`` variable): validate the input without resolving
   addresses, run the one command on the host (plugin_utils/_probes/firewall.py) and return
   what it read: ``report`` (published as firewall_host_report, the contract other roles
   read), ``os``, ``packages``, ``table`` (digests) and ``outside`` (hosts whose addresses
   the flows need and which are not in the play: tasks/decide.yml reads them, delegated);
2. plan (``__firewall_inspection`` = the result of step 1, ``__firewall_outside`` = the
   results of reading the hosts outside the play): no command on the host; the rules from
   the flows and every host's report, the table's body rendered from templates/table.nft.j2,
   and the changes: missing packages, and the table unless the module's own record says
   it is unchanged (module_utils/_nftables/core.py unchanged_by_record).

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils import _firewall_role
"""

from __future__ import annotations

from ansible_collections.groundwork.server.plugins.module_utils._nftables.core import (
    NftablesError,
    TableSpec,
    observed_paths,
    unchanged_by_record,
)
from ansible_collections.groundwork.server.plugins.module_utils._nftables.core import (
    validate as validate_table,
)
from ansible_collections.groundwork.server.plugins.plugin_utils import _flows
from ansible_collections.groundwork.server.plugins.plugin_utils._firewall_model import firewall_model
from ansible_collections.groundwork.server.plugins.plugin_utils._plan import (
    Change,
    Plan,
    missing_packages,
    release_problem,
)

ROLE = "firewall"
TABLE = "groundwork"
FAMILY = "inet"
PACKAGES = ("nftables",)
# Read as well: apt's check mode needs python3-apt.
INSPECTED_PACKAGES = ("nftables", "python3-apt")
TEMPLATE = "table.nft.j2"
# The role's variables, as firewall_model's keyword arguments.
VARIABLES = {
    "admin_sources": "firewall_admin_sources",
    "ssh_port": "firewall_ssh_port",
    "ssh_rate": "firewall_ssh_rate",
    "ssh_burst": "firewall_ssh_burst",
    "services": "firewall_services",
    "rules": "firewall_rules",
    "egress_restrict": "firewall_egress_restrict",
    "egress_allow": "firewall_egress_allow",
    "log_drops": "firewall_log_drops",
    "log_rate": "firewall_log_rate",
    "icmp_echo_rate": "firewall_icmp_echo_rate",
    "confirm_timeout": "firewall_confirm_timeout",
}


def _get(inputs, name, default=None):
    try:
        return inputs[name]
    except KeyError:
        return default


def settings(inputs):
    """The role's variables as firewall_model's keyword arguments (unset ones left to its defaults)."""
    found = {}
    for key, name in VARIABLES.items():
        value = _get(inputs, name)
        if value is not None:
            found[key] = value
    return found


def play_reports(play_hosts, hostvars):
    """The reports the play's hosts published (firewall_host_report), None for a host without one,
    each read when a flow of this host needs it (_flows.PublishedReports): a host's plan reads
    the hosts its flows name, not every host of the play."""
    return _flows.PublishedReports(hostvars, play_hosts)


def reconnect_timeout(confirm_timeout):
    """The fresh connection must succeed well before the rollback fires (two thirds of it)."""
    return (int(confirm_timeout) * 2) // 3


def validate(inputs, context):
    """Step 1: the input checked without addresses. Step 2: the rules with every host's report."""
    flows = _get(inputs, "firewall_flows", [])
    values = settings(inputs)
    inspection = _get(inputs, "__firewall_inspection")
    if not inspection:
        model = firewall_model(
            flows, host=context.host, groups=context.groups, hostvars=context.hostvars, **values
        )
        if model["errors"]:
            return None, model["errors"]
        play_hosts = list(_get(inputs, "ansible_play_hosts", []) or [])
        outside = [name for name in model["needs"] if name not in play_hosts]
        return {"step": "inspect", "outside": outside}, []
    reports = play_reports(_get(inputs, "ansible_play_hosts", []) or [], context.hostvars)
    reports[context.host] = inspection.get("report")
    model = firewall_model(
        flows,
        host=context.host,
        groups=context.groups,
        hostvars=context.hostvars,
        reports=reports,
        outside=_get(inputs, "__firewall_outside", []) or [],
        **values,
    )
    if model["errors"]:
        return None, model["errors"]
    confirm_timeout = int(values.get("confirm_timeout", 60))
    return {
        "step": "plan",
        "firewall": model,
        "inspection": inspection,
        "confirm_timeout": confirm_timeout,
    }, []


def table_spec(content=None):
    return TableSpec(name=TABLE, family=FAMILY, content=content)


def request(model, context):
    if model["step"] == "plan":
        return None
    return {
        "packages": list(INSPECTED_PACKAGES),
        "probe": {"table": TABLE, "family": FAMILY, "packages": list(INSPECTED_PACKAGES)}
        | observed_paths(table_spec()),
    }


def inspected(model, inspection):
    """Step 1's result: what step 2 and the other roles need of the inspection."""
    probe = inspection.get("probe") or {}
    plan = Plan()
    plan.data = {
        "report": probe.get("report"),
        "table": probe.get("table") or {},
        "os": inspection.get("os") or {},
        "packages": inspection.get("packages") or {},
        "outside": model["outside"],
    }
    return plan


def table_reason(observed):
    """Why the module has to look at the table (it decides itself)."""
    if not observed.get("readable", False):
        return "could not be read completely"
    if not observed.get("nft"):
        return "nft is not installed"
    if observed.get("live") is None:
        return "does not exist"
    if observed.get("pending"):
        return "a change waits for confirmation"
    return "differs from the computed rules, or is not confirmed and persisted for boot"


def port_note(firewall):
    """The hint the cut-connection message gives when SSH arrives on another port."""
    connection_port, ssh_port = firewall["own"]["connection_port"], firewall["ssh"]["port"]
    if connection_port in (None, ssh_port):
        return ""
    return f" (it arrives on port {connection_port}, the rules allow SSH on port {ssh_port})"


def decide(firewall, inspection, content, check_mode, confirm_timeout=60):
    """The plan of step 2 from the resolved rules, step 1's inspection and the rendered body."""
    plan = Plan()
    problem = release_problem(ROLE, inspection.get("os") or {})
    if problem:
        plan.problems.append(problem)
        return plan
    states = inspection.get("packages") or {}
    missing = missing_packages(PACKAGES, states)
    plan.extend(Change("package", name, "not installed") for name in missing)
    spec = table_spec(content)
    try:
        validate_table(spec, "present")
    except NftablesError as exc:
        plan.problems.append(f"The computed table is not valid: {exc}")
        return plan
    observed = inspection.get("table") or {}
    if not unchanged_by_record(spec, observed.get("nft"), observed):
        plan.add("table", f"{FAMILY} {TABLE}", table_reason(observed))
    apt_check = states.get("python3-apt") == "installed"
    plan.data = {
        "table": TABLE,
        "family": FAMILY,
        "content": content,
        "packages": missing,
        # apt's check mode needs python3-apt; without it the role reports what it would install.
        "install": bool(missing) and (apt_check or not check_mode),
        "report_install": bool(missing) and check_mode and not apt_check,
        # In check mode on a host without nftables the module cannot check anything yet.
        "load": not (check_mode and "nftables" in missing),
        "confirm_timeout": confirm_timeout,
        "reconnect_timeout": reconnect_timeout(confirm_timeout),
        # After a cut connection: wait until the rollback has surely fired, then reconnect.
        "rollback_wait": confirm_timeout - reconnect_timeout(confirm_timeout) + 3,
        "port_note": port_note(firewall),
        # (not "warnings": Ansible takes that key of a result for its own warnings)
        "notices": list(firewall["warnings"]),
    }
    return plan


def plan(model, inspection, context):
    if model["step"] == "inspect":
        return inspected(model, inspection)
    firewall = model["firewall"]
    content = context.render(TEMPLATE, __firewall_model=firewall, __firewall_table=TABLE)
    return decide(firewall, model["inspection"], content, context.check_mode, model["confirm_timeout"])
