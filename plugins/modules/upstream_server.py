#!/usr/bin/python
# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: upstream_server
short_description: Take a server out of nginx's load balancing, or put it back, without dropping requests
version_added: 0.1.0
description:
  - Runs on a load balancer. In every C(upstream) block of the nginx configuration files in
    O(paths), the C(server) lines naming O(server) get nginx's C(down) parameter
    (O(state=drained)) or lose it (O(state=active)).
  - The changed files are applied as one transaction (the same one as
    M(groundwork.server.service_config)), checked with C(nginx -t), and nginx is reloaded
    gracefully; when anything fails the previous files are restored and nginx keeps running
    them.
  - After a drain, the module waits (up to O(wait)) until nginx's old worker processes have
    finished the requests they were serving, so that the drained server can be restarted
    without cutting a request in half.
  - A drain never takes the last serving server out of an upstream (that would turn a short
    wait into errors for every client); such upstreams are left alone and listed in RV(kept).
  - Made for rolling deploys (the C(groundwork.server.app) role calls it on every balancer
    before it restarts an application server, and again after the server's health check passed).
    The next run of the C(groundwork.server.nginx) role writes the configuration without any
    drain, so a server left drained by an interrupted deploy is put back by it.
author: groundwork developers (@groundwork)
attributes:
  check_mode:
    support: full
    description: Reports what would change; touches nothing.
  diff_mode:
    support: full
    description: One unified diff per changed file.
  idempotent:
    support: full
    description: A server already in the wanted state changes nothing and nginx is not reloaded.
options:
  server:
    description:
      - The server as the C(upstream) blocks name it, C(host:port), for example
        C(app1.example.net:8000) or C(10.0.0.5:8000).
      - The M(groundwork.server.nginx) role names members of an inventory group by their
        C(ansible_host), else their inventory name, followed by the port.
    type: str
    required: true
  state:
    description: V(drained) takes the server out of the rotation; V(active) puts it back.
    type: str
    choices: [drained, active]
    default: active
  paths:
    description: Directories whose C(*.conf) files are searched for C(upstream) blocks.
    type: list
    elements: path
    default: [/etc/nginx/conf.d, /etc/nginx/sites-enabled]
  wait:
    description: Seconds to wait after a drain for nginx's old workers to finish their requests.
    type: int
    default: 15
notes:
  - Only nginx is supported for now.
seealso:
  - module: groundwork.server.service_config
"""

EXAMPLES = r"""
- name: Take this application server out of every balancer
  groundwork.server.upstream_server:
    server: "{{ ansible_host | default(inventory_hostname) }}:8000"
    state: drained
  delegate_to: "{{ item }}"
  loop: "{{ groups['loadbalancers'] }}"
"""

RETURN = r"""
upstreams:
  description: The upstream blocks that name the server.
  returned: always
  type: list
  elements: str
  sample: [shop_app]
kept:
  description: Upstreams where the server was not drained because it is their last serving server.
  returned: always
  type: list
  elements: str
files_changed:
  description: The files that changed.
  returned: always
  type: list
  elements: str
  sample: [/etc/nginx/conf.d/groundwork.conf]
waited:
  description: Seconds spent waiting for old nginx workers after a drain.
  returned: always
  type: float
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.groundwork.server.plugins.module_utils._upstream.host import apply_mark


def main():
    module = AnsibleModule(
        argument_spec={
            "server": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["drained", "active"], "default": "active"},
            "paths": {
                "type": "list",
                "elements": "path",
                "default": ["/etc/nginx/conf.d", "/etc/nginx/sites-enabled"],
            },
            "wait": {"type": "int", "default": 15},
        },
        supports_check_mode=True,
    )
    params = module.params
    outcome = apply_mark(
        module.run_command,
        params["paths"],
        params["server"],
        drained=params["state"] == "drained",
        wait=params["wait"],
        check_mode=module.check_mode,
    )
    values = {key: outcome[key] for key in ("changed", "upstreams", "kept", "files_changed", "waited")}
    if module._diff:
        values["diff"] = outcome["diff"]
    if outcome["failed"]:
        module.fail_json(msg=outcome["msg"], **values)
    for name in outcome["kept"]:
        module.warn(f"{params['server']} is the last serving server of upstream {name}; it was not drained")
    module.exit_json(msg=outcome["msg"], **values)


if __name__ == "__main__":
    main()
