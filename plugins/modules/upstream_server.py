#!/usr/bin/python
# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: upstream_server
short_description: Take a server out of nginx's or Apache's load balancing, or put it back, losing no request
version_added: 0.1.0
description:
  - Runs on a load balancer, nginx or Apache (O(web_server)).
  - "nginx: in every C(upstream) block of the configuration files in O(paths), the C(server)
    lines naming O(server) get nginx's C(down) parameter (O(state=drained)) or lose it
    (O(state=active))."
  - "Apache: in every C(<Proxy \"balancer://NAME\">) block of the configuration files in O(paths),
    the C(BalancerMember) lines whose URL has O(server) as host and port get the status flag
    C(+D) (disabled: no new requests; O(state=drained)) or lose it (O(state=active)). The other
    flags, such as C(+H) of a hot standby, and every other parameter stay as they are."
  - The changed files are applied as one transaction (the same one as
    M(groundwork.server.service_config)), checked (C(nginx -t); for Apache the check of the
    C(groundwork.server.apache) role, C(/etc/apache2/groundwork/check), or C(apache2ctl -t) where
    the role did not install it), and the web server is reloaded gracefully; when anything fails
    the previous files are restored and the web server keeps running them.
  - After a drain, the module waits (up to O(wait)) until the old processes have finished the
    requests they were serving, so that the drained server can be restarted without cutting a
    request in half. For nginx it watches the workers that are shutting down.
  - "For Apache it reads the status page C(http://127.0.0.1/server-status?auto) until the new
    generation runs and it shows C(Stopping: 0) and C(GracefulWorkers: 0). When the status page
    cannot be read, the module waits a fixed 5 seconds (at most O(wait)) and warns."
  - A drain never takes the last serving server out of an upstream (that would turn a short
    wait into errors for every client); such upstreams are left alone and listed in RV(kept).
    Calls on the same host take turns (an exclusive lock on C(/run/lock/groundwork-upstream.lock)
    from reading the files until the wait ends), so that runs deploying at the same time - AWX job
    slices, two operators - never lose each other's marks or drain the last serving server
    between them.
    A backup server (nginx C(backup), Apache C(+H) and the other flags of members that take no
    regular requests) does not count as serving.
  - Made for rolling deploys (the C(groundwork.server.app) role calls it on every balancer
    before it restarts an application server, and again after the server's health check passed).
    The next run of the C(groundwork.server.nginx) or C(groundwork.server.apache) role writes the
    configuration without any drain, so a server left drained by an interrupted deploy is put
    back by it.
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
    description: A server already in the wanted state changes nothing and the web server is not reloaded.
options:
  server:
    description:
      - The server as the upstreams name it, C(host:port), for example C(app1.example.net:8000)
        or C(10.0.0.5:8000). Apache's C(BalancerMember) URLs match by host and port
        (C(http://10.0.0.5:8000) and C(http://10.0.0.5:8000/app) both name C(10.0.0.5:8000)).
      - The C(groundwork.server.nginx) and C(groundwork.server.apache) roles name members of an
        inventory group by their C(ansible_host), else their inventory name, followed by the port.
    type: str
    required: true
  state:
    description: V(drained) takes the server out of the rotation; V(active) puts it back.
    type: str
    choices: [drained, active]
    default: active
  web_server:
    description:
      - The web server that balances the load.
      - V(auto) detects it - V(apache) when the C(groundwork.server.apache) role's
        C(/etc/apache2/conf-enabled/groundwork.conf) exists, else V(nginx).
    type: str
    choices: [auto, nginx, apache]
    default: auto
  paths:
    description:
      - Directories whose C(*.conf) files are searched for upstreams.
      - The default depends on the web server - C([/etc/nginx/conf.d, /etc/nginx/sites-enabled])
        for nginx, C([/etc/apache2/conf-enabled, /etc/apache2/sites-enabled]) for Apache.
    type: list
    elements: path
  wait:
    description: Seconds to wait after a drain for the web server's old processes to finish their requests.
    type: int
    default: 15
seealso:
  - module: groundwork.server.service_config
"""

EXAMPLES = r"""
- name: Take this application server out of every balancer (nginx or Apache, detected)
  groundwork.server.upstream_server:
    server: "{{ ansible_host | default(inventory_hostname) }}:8000"
    state: drained
  delegate_to: "{{ item }}"
  loop: "{{ groups['loadbalancers'] }}"

- name: Put it back into the balancers of an Apache configured without the apache role
  groundwork.server.upstream_server:
    server: "{{ ansible_host | default(inventory_hostname) }}:8000"
    state: active
    web_server: apache
    paths: [/etc/apache2/sites-enabled]
  delegate_to: "{{ item }}"
  loop: "{{ groups['loadbalancers'] }}"
"""

RETURN = r"""
upstreams:
  description: The upstreams that name the server (nginx C(upstream) blocks, Apache balancers without C(balancer://)).
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
  description: Seconds spent waiting for the web server's old processes after a drain.
  returned: always
  type: float
web_server:
  description: The web server whose configuration was searched.
  returned: always
  type: str
  sample: apache
"""

import contextlib

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.groundwork.server.plugins.module_utils._upstream.host import apply_mark, exclusive


def main():
    module = AnsibleModule(
        argument_spec={
            "server": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["drained", "active"], "default": "active"},
            "web_server": {"type": "str", "choices": ["auto", "nginx", "apache"], "default": "auto"},
            # Default: the web server's directories.
            "paths": {"type": "list", "elements": "path"},
            "wait": {"type": "int", "default": 15},
        },
        supports_check_mode=True,
    )
    params = module.params
    # One edit of the host's upstreams at a time, whichever run makes it (check mode only reads).
    lock = contextlib.nullcontext() if module.check_mode else exclusive()
    with lock:
        outcome = apply_mark(
            module.run_command,
            params["paths"],
            params["server"],
            drained=params["state"] == "drained",
            wait=params["wait"],
            check_mode=module.check_mode,
            web_server=params["web_server"],
        )
    keys = ("changed", "upstreams", "kept", "files_changed", "waited", "web_server")
    values = {key: outcome[key] for key in keys}
    if module._diff:
        values["diff"] = outcome["diff"]
    if outcome["failed"]:
        module.fail_json(msg=outcome["msg"], **values)
    noun = "balancer" if outcome["web_server"] == "apache" else "upstream"
    for name in outcome["kept"]:
        module.warn(f"{params['server']} is the last serving server of {noun} {name}; it was not drained")
    for note in outcome["warnings"]:
        module.warn(note)
    module.exit_json(msg=outcome["msg"], **values)


if __name__ == "__main__":
    main()
