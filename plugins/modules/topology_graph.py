#!/usr/bin/python
# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: topology_graph
short_description: Draw the deployed topology (tiers, services, flows, certificates) with Graphviz
version_added: 0.1.0
description:
  - Draws the hosts of the inventory grouped by tier (one frame per O(tiers) group), the service
    units active on each host, its certificates with their expiry dates, and the allowed
    flows (C(firewall_flows)) as arrows labelled with their ports; V(any) is drawn as the internet.
  - Writes the Graphviz DOT source to O(dest)/O(name)C(.dot) and renders it with C(dot) to
    O(dest)/O(name)C(.svg) and C(.png) (O(formats)).
  - What each host runs is read from its O(hosts[].report), the output of one read-only command
    per host; C(playbooks/architecture.yml) runs it and calls this module on the controller.
  - Nothing is rendered when the DOT source equals the C(.dot) file already beside the images
    and every image exists. The source is the same for the same topology (no timestamps), so a
    second run reports no change.
author: groundwork developers (@groundwork)
attributes:
  check_mode:
    support: full
    description: Writes nothing and reports whether the picture would change.
  diff_mode:
    support: full
    description: The difference between the previous DOT source and the new one.
  idempotent:
    support: full
    description: The same topology draws the same source; a second run changes nothing.
requirements:
  - Graphviz (the C(dot) program; Debian package C(graphviz)) on the host the module runs on.
options:
  dest:
    description: The directory the files are written to; created when missing.
    type: path
    required: true
  name:
    description: The files' name without extension.
    type: str
    default: architecture
  formats:
    description: The image formats to render.
    type: list
    elements: str
    choices: [svg, png]
    default: [svg, png]
  title:
    description: The picture's title.
    type: str
    default: Deployed topology
  groups:
    description:
      - The inventory's groups, group name to host names (the C(groups) variable). Every host
        of C(all) is drawn; one that has no O(hosts) entry is marked as not inspected.
    type: dict
    required: true
  hosts:
    description: What each host reported.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The inventory name.
        type: str
        required: true
      report:
        description:
          - "What the host printed, one item a line: C(address=) its addresses (C(hostname -I)),
            C(release=) C(/etc/debian_version), C(firewall=loaded) when the nftables table
            C(inet groundwork) exists, C(unit=) each line of C(systemctl list-units
            --type=service --all --plain --no-legend), C(cert=) the certificate's directory name under
            C(/etc/ssl/groundwork/), C(|) and the lines of C(openssl x509 -noout -enddate -subject)
            joined with C(|)."
          - Omit it (or V(null)) for a host that could not be inspected.
        type: str
      units:
        description:
          - Further service units (without C(.service)) to show for this host, for example the
            application's unit; shell-style patterns are allowed.
        type: list
        elements: str
        default: []
      address:
        description: The address shown when the report has none (for example C(ansible_host)).
        type: str
  tiers:
    description:
      - The tiers from top to bottom, each an inventory group drawn as one frame. A host is drawn
        in the first tier whose group contains it; hosts in no tier are drawn under C(Other hosts).
    type: list
    elements: dict
    default:
      - {group: loadbalancers, label: Load balancers}
      - {group: appservers, label: Application servers}
      - {group: dbservers, label: Database servers}
    suboptions:
      group:
        description: The inventory group.
        type: str
        required: true
      label:
        description: The frame's title; the group's name when omitted.
        type: str
  flows:
    description:
      - The allowed flows in the format of the C(groundwork.server.firewall) role's C(firewall_flows)
        (C(name), C(from), C(to), C(port) or C(service), C(proto)). C(from) and C(to) are groups,
        hosts, addresses or networks, or V(any); a tier's group is drawn as an arrow to its frame.
      - An item that cannot be drawn is skipped with a warning (the firewall role validates flows).
    type: list
    elements: dict
    default: []
  admin_sources:
    description: The networks SSH is open to on every host (C(firewall_admin_sources)), named in a footnote.
    type: list
    elements: str
    default: []
  units:
    description:
      - The service units (without C(.service), shell-style patterns) shown on every host when they
        are active, activating or failed, in this order; C(ssh) is printed small, after the others.
      - The firewall is shown when the report says its nftables table is loaded (C(firewall=loaded)).
    type: list
    elements: str
    default: [nginx, apache2, postgresql@*, mariadb, mysql, named, unbound, ssh]
  expiry_warning_days:
    description: A certificate that expires within this many days is drawn in orange (red once expired).
    type: int
    default: 30
notes:
  - Runs on the controller (C(delegate_to) or a play on C(localhost)); the hosts are only read by the
    command whose output is O(hosts[].report).
seealso:
  - name: The architecture picture
    description: C(playbooks/architecture.yml) and C(docs/TOPOLOGY.md) of the collection.
    link: https://github.com/groundwork/server/blob/main/docs/TOPOLOGY.md
"""

EXAMPLES = r"""
- name: Draw the topology
  groundwork.server.topology_graph:
    dest: "{{ playbook_dir }}/architecture"
    groups: "{{ groups }}"
    hosts:
      - name: web1
        report: "{{ hostvars['web1']['__report']['stdout'] }}"
    flows:
      - {name: web, from: any, to: loadbalancers, port: [80, 443]}
      - {name: app-to-db, from: appservers, to: dbservers, service: postgresql}
"""

RETURN = r"""
dot:
  description: The path of the DOT source.
  returned: always
  type: str
  sample: /srv/architecture/architecture.dot
paths:
  description: The path of each rendered image, by format.
  returned: always
  type: dict
  sample: {svg: /srv/architecture/architecture.svg, png: /srv/architecture/architecture.png}
hosts:
  description: The number of hosts drawn.
  returned: always
  type: int
  sample: 4
flows:
  description: The number of arrows drawn for flows (flows between the same ends share one arrow).
  returned: always
  type: int
  sample: 3
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.groundwork.server.plugins.module_utils._topology.core import (
    DEFAULT_TIERS,
    DEFAULT_UNITS,
    TopologyError,
    render,
)
from ansible_collections.groundwork.server.plugins.module_utils._topology.files import RenderError, write

ARGUMENT_SPEC = {
    "dest": {"type": "path", "required": True},
    "name": {"type": "str", "default": "architecture"},
    "formats": {"type": "list", "elements": "str", "choices": ["svg", "png"], "default": ["svg", "png"]},
    "title": {"type": "str", "default": "Deployed topology"},
    "groups": {"type": "dict", "required": True},
    "hosts": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "name": {"type": "str", "required": True},
            "report": {"type": "str"},
            "units": {"type": "list", "elements": "str", "default": []},
            "address": {"type": "str"},
        },
    },
    "tiers": {
        "type": "list",
        "elements": "dict",
        "default": [dict(tier) for tier in DEFAULT_TIERS],
        "options": {"group": {"type": "str", "required": True}, "label": {"type": "str"}},
    },
    "flows": {"type": "list", "elements": "dict", "default": []},
    "admin_sources": {"type": "list", "elements": "str", "default": []},
    "units": {"type": "list", "elements": "str", "default": list(DEFAULT_UNITS)},
    "expiry_warning_days": {"type": "int", "default": 30},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    dot = module.get_bin_path("dot")
    if dot is None:
        module.fail_json(msg="Graphviz's dot was not found on the controller: install the package graphviz")
    try:
        picture = render(
            params["groups"],
            params["hosts"],
            flows=params["flows"],
            tiers=params["tiers"],
            units=params["units"],
            title=params["title"],
            admin_sources=params["admin_sources"],
            warning_days=params["expiry_warning_days"],
        )
        outcome = write(
            picture.dot,
            params["dest"],
            params["name"],
            params["formats"],
            dot,
            module.run_command,
            module.atomic_move,
            check_mode=module.check_mode,
        )
    except (TopologyError, RenderError) as exc:
        module.fail_json(msg=str(exc))
    for warning in picture.warnings:
        module.warn(warning)
    result = {
        "changed": outcome.changed,
        "dot": outcome.dot_path,
        "paths": outcome.paths,
        "hosts": picture.hosts,
        "flows": picture.edges,
    }
    if module._diff and outcome.changed:
        result["diff"] = outcome.diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
