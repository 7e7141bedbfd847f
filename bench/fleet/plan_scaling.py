# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How the controller-side decisions that read other hosts grow with the size of a fleet.

For synthetic fleets of 4 to 512 hosts (bench/fleet/inventory.py: two balancers, two
database servers from 8 hosts on, the rest application servers; the bench's group_vars),
read through Ansible's own InventoryManager, VariableManager and HostVars, so that reading
another host's variables costs what it costs in a run (``hostvars[name]`` computes all of
that host's variables), it calls the functions the roles call for every host of a run of
playbooks/site.yml that look at other hosts:

- firewall: the plan step of groundwork.server.firewall on every host (_firewall_role.validate
  with the host's inspection: the rules from the flows and the other hosts' reports);
- tls: whether the inventory wants the internal CA (_tls_role.inventory_wants_ca), every host;
- nginx: the site model of each balancer (_site_model.site_model: the upstream from the group
  appservers);
- postgresql: the access rules of each database server (_postgresql_role.resolve: who may
  connect, from the flows and the clients' reports);
- topology: the architecture picture of the whole fleet (_topology.core.render), once.

It prints, per size and function, the time per call and how many times a call computed
another host's variables (``hostvars`` lookups, counted in VariableManager.get_vars). A
function whose lookups per call grow with the fleet is quadratic over a run (every host pays
for every other); for the balancers and database servers one lookup per member of the group
they serve is the floor. Times are printed, never asserted (tests/unit assert the counts).

Usage: plan_scaling.py [SIZES...]        default 4 8 16 32 64 128 256 512
"""

from __future__ import annotations

import functools
import ipaddress
import os
import statistics
import sys
import tempfile
import time
from types import SimpleNamespace

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import inventory as fleet_inventory  # noqa: E402 (bench/fleet/inventory.py)
from ansible.plugins.loader import init_plugin_loader  # noqa: E402

# The collection as ansible-playbook finds it (ansible.cfg's collections_path), and the
# lookups the group_vars use.
init_plugin_loader([os.path.join(ROOT, ".collections")])

from ansible.inventory.manager import InventoryManager  # noqa: E402
from ansible.parsing.dataloader import DataLoader  # noqa: E402
from ansible.vars.hostvars import HostVars  # noqa: E402
from ansible.vars.manager import VariableManager  # noqa: E402
from ansible_collections.groundwork.server.plugins.module_utils._topology import core as topology  # noqa: E402
from ansible_collections.groundwork.server.plugins.plugin_utils import (  # noqa: E402
    _firewall_role,
    _postgresql_role,
    _tls_role,
)
from ansible_collections.groundwork.server.plugins.plugin_utils._site_model import site_model  # noqa: E402

SIZES = (4, 8, 16, 32, 64, 128, 256, 512)
# The firewall plan as it read the reports before issue 18, for comparison, up to this size.
EAGER_MAX = 256


def address(index):
    return str(ipaddress.ip_address(0x0A000002 + index))


def report(index):
    """What a host's firewall inspection reports (its route source address)."""
    return f"route4=default via 10.0.0.1 dev eth0 src {address(index)} uid 0\nroute6=\n"


class Counted:
    """Counts VariableManager.get_vars calls for another host (hostvars lookups)."""

    def __init__(self, manager):
        self.count = 0
        original = manager.get_vars

        def get_vars(*args, **kwargs):
            self.count += 1
            return original(*args, **kwargs)

        manager.get_vars = get_vars


def fleet(size, directory, order=fleet_inventory.GROUPS):
    fleet_inventory.write(directory, fleet_inventory.layout(size), order=order)
    state = os.path.join(directory, "state")
    with open(os.path.join(state, "id_ed25519.pub"), "w", encoding="utf-8") as handle:
        handle.write(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDtw6j1cFxvQ2pY0wzXvHqVn2tJzH3F8lQ9QJm0u3B5k fleet\n"
        )
    with open(os.path.join(state, "network"), "w", encoding="utf-8") as handle:
        handle.write("10.0.0.0/8\n")
    with open(os.path.join(state, "db_password"), "w", encoding="utf-8") as handle:
        handle.write("benchbenchbenchbenchbench\n")
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[os.path.join(directory, "hosts.yml")])
    manager = VariableManager(loader=loader, inventory=inventory)
    hostvars = HostVars(inventory, manager, loader)
    hosts = [host.name for host in inventory.get_hosts()]
    for index, name in enumerate(hosts):
        manager.set_nonpersistent_facts(name, {_firewall_role._flows.REPORT_VAR: report(index)})
    groups = inventory.get_groups_dict()
    return hosts, groups, hostvars, Counted(manager)


def eager_reports(play_hosts, hostvars):
    """How the firewall plan read the reports before issue 18: every play host's, on every host."""
    return {name: _firewall_role._flows.published_report(hostvars, name) for name in play_hosts}


def templated(hostvars, host, names):
    variables = hostvars[host]
    return {name: variables[name] for name in names if name in variables}


def timed(counter, calls):
    """(seconds per call, lookups per call) of ``calls``, a list of functions."""
    seconds, lookups = [], []
    for call in calls:
        before = counter.count
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
        lookups.append(counter.count - before)
    return statistics.mean(seconds), statistics.mean(lookups)


def firewall_calls(hosts, groups, hostvars, index_of, step="plan"):
    calls = []
    for host in hosts:
        inputs = templated(hostvars, host, ["firewall_flows", "firewall_admin_sources"])
        inputs["ansible_play_hosts"] = hosts
        if step == "plan":
            inputs["__firewall_inspection"] = {"report": report(index_of[host])}
        context = SimpleNamespace(host=host, groups=groups, hostvars=hostvars, check_mode=False)

        def call(inputs=inputs, context=context):
            model, problems = _firewall_role.validate(inputs, context)
            assert not problems, problems
            return model

        calls.append(call)
    return calls


def tls_calls(hosts, groups, hostvars):
    return [
        lambda host=host: _tls_role.inventory_wants_ca(
            SimpleNamespace(host=host, groups=groups, hostvars=hostvars)
        )
        for host in hosts
    ]


def nginx_calls(groups, hostvars):
    calls = []
    for host in groups["loadbalancers"]:
        inputs = templated(hostvars, host, ["nginx_sites", "nginx_upstreams", "nginx_certificates"])

        def call(inputs=inputs):
            model = site_model(
                inputs["nginx_sites"],
                upstreams=inputs["nginx_upstreams"],
                certificates=inputs["nginx_certificates"],
                groups=groups,
                hostvars=hostvars,
            )
            assert not model["errors"], model["errors"]

        calls.append(call)
    return calls


def resolved_model(values, host, groups, hostvars, certificates):
    """The PostgreSQL role's model of ``host`` (what its plan resolves from the other hosts)."""
    model, problems = _postgresql_role.resolve(values, host, groups, hostvars, None, certificates)
    assert not problems, problems
    return model


def postgresql_calls(groups, hostvars):
    calls = []
    for host in groups["dbservers"]:
        values = dict(_postgresql_role.VARIABLES)
        values.update(templated(hostvars, host, list(_postgresql_role.VARIABLES)))
        certificates = templated(hostvars, host, ["tls_certificates"])["tls_certificates"]
        calls.append(functools.partial(resolved_model, values, host, groups, hostvars, certificates))
    return calls


def topology_calls(hosts, groups, index_of):
    items = [
        {"name": host, "report": f"address={address(index_of[host])}\nrelease=12\nfirewall=loaded\n"}
        for host in hosts
    ]
    flows = [
        {"name": "web", "from": "any", "to": "loadbalancers", "port": [80, 443]},
        {"name": "lb-to-app", "from": "loadbalancers", "to": "appservers", "port": 8000},
        {"name": "app-to-db", "from": "appservers", "to": "dbservers", "service": "postgresql"},
    ]
    return [lambda: topology.render(groups, items, flows=flows)]


def measure(size, counter, name, calls):
    seconds, lookups = timed(counter, calls)
    print(
        f"plan-scaling: {name:<24} hosts={size:<4} calls={len(calls):<4}"
        f" ms_per_call={seconds * 1000:8.2f} lookups_per_call={lookups:7.1f}"
        f" run_ms={seconds * 1000 * len(calls):9.1f}"
    )


def main(argv):
    sizes = [int(size) for size in argv] or list(SIZES)
    print(
        "plan-scaling: function, hosts, calls in a run, ms per call, hostvars lookups per call"
        " (lookups that grow with the fleet in a call made for every host: quadratic), ms per run"
    )
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="gwfleet-plan.") as directory:
            hosts, groups, hostvars, counter = fleet(size, directory)
            index_of = {host: index for index, host in enumerate(hosts)}
            measure(size, counter, "firewall plan", firewall_calls(hosts, groups, hostvars, index_of))
            if size <= EAGER_MAX:
                lazy = _firewall_role.play_reports
                _firewall_role.play_reports = eager_reports
                try:
                    calls = firewall_calls(hosts, groups, hostvars, index_of)
                    measure(size, counter, "firewall plan (before)", calls)
                finally:
                    _firewall_role.play_reports = lazy
            measure(
                size, counter, "firewall check", firewall_calls(hosts, groups, hostvars, index_of, "check")
            )
            measure(size, counter, "tls wants CA", tls_calls(hosts, groups, hostvars))
            measure(size, counter, "nginx site model", nginx_calls(groups, hostvars))
            measure(size, counter, "postgresql access", postgresql_calls(groups, hostvars))
            measure(size, counter, "topology picture", topology_calls(hosts, groups, index_of))
        # The same inventory with the application servers listed first: the first host that
        # wants the internal CA comes after all of them.
        with tempfile.TemporaryDirectory(prefix="gwfleet-plan.") as directory:
            order = ("appservers", "loadbalancers", "dbservers")
            hosts, groups, hostvars, counter = fleet(size, directory, order)
            measure(size, counter, "tls wants CA (apps 1st)", tls_calls(hosts, groups, hostvars))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
