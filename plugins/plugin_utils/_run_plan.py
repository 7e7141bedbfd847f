# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which roles a run of playbooks/site.yml applies to each server, decided before any of them
runs (playbooks/decide.yml, groundwork.server.role_plan with ``step: decide``).

Every server gets base, firewall, dns (where the inventory uses it: ``dns_wanted``) and tls,
then the role that serves each of its tiers, in the order site.yml applies the tiers
(database, application, balancer). Each role decides from the run's one inspection of the
server, on the controller. A server where no role changes anything is left alone by the rest
of the run: no play applies a role to it.

A role that changes a server changes what the roles after it find there (packages, users,
files). So a server runs the first role that changes it *and every role after it*; each of
them decides again when it runs, exactly as without this step. The packages every role
misses are installed first, in one apt transaction per server (decide.yml); the server is
then read again, and each role finds its packages in place. A role that cannot be decided
here (its input has problems, it asks hosts outside the run or a CA on another host, the
run's inspection does not answer it) counts as a change: it runs, and decides itself.

The decision only ever skips a role whose own decision, made from the same inspection with
the same variables, lists no change: it never applies anything.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils import _run_plan
"""

from __future__ import annotations

import hashlib

from ansible_collections.groundwork.server.plugins.module_utils import _contracts as contracts

# The roles every server gets first, in site.yml's order (base.yml, firewall.yml, dns.yml,
# certificates.yml): the firewall opens the flows first, then the zone answers, and what comes
# after it (certificates, the tiers) resolves names through it.
FIRST = ("base", "firewall", "dns", "tls")
# Of the first roles, those only an inventory that uses them gets (steps(optional=...)).
OPTIONAL = ("dns",)
# groundwork_dns: auto (the default) applies groundwork.server.dns when the inventory has a DNS
# server for it; true always (the role refuses an inventory without one); false never.
DNS_VAR = "groundwork_dns"
DNS_CHOICES = {"auto": "auto", "true": True, "yes": True, "false": False, "no": False}
# The tiers in site.yml's order: each tier finds the one behind it ready.
TIER_ORDER = ("dbservers", "appservers", "loadbalancers")
# The group a server joins when one of the first roles runs on it.
FIRST_GROUPS = {name: f"groundwork_{name}_changes" for name in FIRST}
UNCHANGED = "unchanged"
LATER = "an earlier role changes this server (this one decides again after it)"
# The group of the servers that miss packages (decide.yml installs them all at once).
PACKAGES_GROUP = "groundwork_packages_missing"
# The application servers that run no release yet (roles/app/tasks/plan.yml joins it too).
FIRST_DEPLOY_GROUP = "groundwork_app_first"
# The group that carries a server into the groups of its roles (grouping()).
DECIDED_PREFIX = "groundwork_decided_"


def steps(tiers, optional=()):
    """The roles of one server in the order site.yml applies them. ``tiers``: {tier: role name}
    for the tiers the server is in; ``optional``: the roles of OPTIONAL the run applies. Each
    step: {"role", "tier" (None for the first roles), "groups" (the groups the server joins when
    the role runs)}."""
    found = [
        {"role": name, "tier": None, "groups": [FIRST_GROUPS[name]]}
        for name in FIRST
        if name not in OPTIONAL or name in optional
    ]
    for tier in TIER_ORDER:
        if tier not in tiers:
            continue
        name = tiers[tier]
        groups = [contracts.CHANGES_GROUPS[name], contracts.tier_changes_group(tier)]
        found.append({"role": name, "tier": tier, "groups": groups})
    return found


def dns_wanted(choice, servers, mode):
    """(wanted, problem): whether site.yml applies groundwork.server.dns, from ``choice`` (the
    value of groundwork_dns: auto, true or false; None is auto), ``servers`` (the hosts of
    dns_servers_group, and dns_primary when set) and ``mode`` (dns_mode). auto wants it when
    there is a DNS server for the zone, or the records go to an existing one (dns_mode update);
    without either the step does nothing. A value that is not a choice is the problem."""
    key = "auto" if choice in (None, "") else choice
    if isinstance(key, str):
        key = key.strip().lower()
    if isinstance(key, bool):
        return key, None
    if not isinstance(key, str) or key not in DNS_CHOICES:
        return False, f"{DNS_VAR}: {choice!r} is not a choice (allowed: 'auto', true or false)."
    value = DNS_CHOICES[key]
    if value != "auto":
        return value, None
    return bool([server for server in servers or [] if server]) or mode == "update", None


def summary(changes, limit=3):
    """One line for a role's changes: how many, and the first few."""
    lines = [str(change) for change in changes]
    shown = "; ".join(lines[:limit])
    more = f"; and {len(lines) - limit} more" if len(lines) > limit else ""
    return f"{len(lines)} change{'s' if len(lines) != 1 else ''}: {shown}{more}"


def verdict(reason, packages=(), groups=()):
    """A role's verdict: UNCHANGED or the reason it runs, the packages its plan installs, and
    more groups the server joins when it runs (FIRST_DEPLOY_GROUP)."""
    return {"reason": reason, "packages": list(packages), "groups": list(groups)}


def decide(host_steps, verdict_of):
    """Which of ``host_steps`` run. ``verdict_of(step)`` is the role's verdict(). Every role is
    asked (the packages of all of them are installed in one transaction before the first
    runs); a role after one that changes the server runs whatever its own verdict. Returns
    {"run": [roles], "groups": [groups], "reasons": {role: reason} (of the roles that run),
    "packages": [the roles' missing packages]}."""
    run, groups, reasons, packages = [], [], {}, []
    changing = False
    for step in host_steps:
        found = verdict_of(step)
        packages.extend(name for name in found["packages"] if name not in packages)
        if found["reason"] == UNCHANGED and not changing:
            continue
        changing = True
        run.append(step["role"])
        groups.extend(group for group in [*step["groups"], *found["groups"]] if group not in groups)
        reasons[step["role"]] = LATER if found["reason"] == UNCHANGED else found["reason"]
    return {"run": run, "groups": groups, "reasons": reasons, "packages": packages}


def grouping(groups):
    """The keys of an action result that put the server into ``groups`` in the task that
    decides (the strategy applies them as it applies ansible.builtin.group_by's): the server
    joins one group named after the set, and that group joins each of ``groups`` as a child,
    so the server is a member of every one of them. Servers with the same groups share the
    group. Empty for no groups."""
    if not groups:
        return {}
    digest = hashlib.sha256("\n".join(sorted(groups)).encode()).hexdigest()[:12]
    return {"add_group": DECIDED_PREFIX + digest, "parent_groups": list(groups)}


def extra_groups(name, data):
    """The groups a role's plan data adds: an application server that runs no release yet is
    deployed with the others like it, all at once (playbooks/appservers.yml)."""
    return [FIRST_DEPLOY_GROUP] if name == "app" and data.get("first_deploy") else []


def packages_of(changes):
    """The packages a plan installs: its changes of kind package."""
    return [change.target for change in changes if change.kind == "package"]
