#!/usr/bin/python
# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: service_config
short_description: Apply a service's configuration files as one validated, reversible change
version_added: 0.1.0
description:
  - Writes a set of configuration files for one service as a single transaction.
  - When nothing differs (content, owner, group, mode, the target of a symbolic link,
    unmanaged leftovers in O(owned_dirs)), nothing is touched and the service is not reloaded.
  - Otherwise the module keeps the current files, writes the new ones atomically, runs the
    service's own checker O(validate) on the B(whole) candidate configuration, activates it
    (O(activate)), and runs the health O(probe).
  - On any failure it restores every file and symbolic link as it was (a link replaced by a
    file, or a file by a link, included), brings the service back to the configuration it
    ran before (a service that crashed into its start limit is let start again), and fails
    with the checker's own message and the stage that failed (RV(failed_stage)).
author: groundwork developers (@groundwork)
attributes:
  check_mode:
    support: full
    description: Writes nothing and reports exactly what a real run would change.
  diff_mode:
    support: full
    description:
      - One unified diff per changed file; O(files[].secret) files show no content.
      - A symbolic link shows as C(-> target).
  idempotent:
    support: full
    description: A second run with the same input changes nothing and does not reload.
options:
  files:
    description: The files and symbolic links of the configuration.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Absolute path of the file or symbolic link.
        type: path
        required: true
      content:
        description:
          - The complete content. Required when O(files[].state=present).
          - Not allowed with O(files[].state=link).
        type: str
      state:
        description:
          - V(present) writes a regular file with O(files[].content).
          - V(link) makes O(files[].path) a symbolic link to O(files[].src), replacing a file
            or a link to somewhere else that is there.
          - V(absent) removes the file or symbolic link.
        type: str
        choices: [present, link, absent]
        default: present
      src:
        description:
          - The target of the symbolic link. Required when O(files[].state=link), and only
            allowed then.
          - Stored verbatim, not resolved or checked; a relative target such as
            V(../mods-available/ssl.load) is relative to the directory of the link.
        type: str
      owner:
        description: Owning user, by name or number. Ignored for O(files[].state=link).
        type: str
        default: root
      group:
        description: Owning group, by name or number. Ignored for O(files[].state=link).
        type: str
        default: root
      mode:
        description:
          - Permissions as an octal string of three or four digits, at most V(07777).
          - Ignored for O(files[].state=link).
        type: str
        default: "0644"
      secret:
        description:
          - The content is a secret (a password file, a key). It never appears in the diff,
            the returned values or the module's logged arguments.
        type: bool
        default: false
  owned_dirs:
    description:
      - Directories this configuration owns. Files and symbolic links directly inside them
        that are not listed in O(files) are removed (sites removed from a list disappear).
    type: list
    elements: path
    default: []
  validate:
    description:
      - The service's checker as an argument list, run after the candidate files are in
        place, for example V([/usr/sbin/nginx, -t, -q]). A non-zero exit rejects the change.
    type: list
    elements: str
  service:
    description: The systemd unit to activate the configuration in, for example V(nginx.service).
    type: str
  activate:
    description:
      - V(reload) runs C(systemctl reload-or-restart) (an inactive service is started),
        V(restart) runs C(systemctl restart), V(none) leaves the service alone.
    type: str
    choices: [reload, restart, none]
    default: reload
  daemon_reload:
    description:
      - Run C(systemctl daemon-reload) before activating, so that a change to the unit
        itself written earlier (a drop-in such as a sandbox) takes effect with the same
        activation; use it with O(activate=restart), which starts the service anew. The
        unit file itself may be one of O(files).
      - After a failure the restored files are read again the same way before the service
        returns to them (or is stopped again, when it was not running).
      - Ignored with O(activate=none) or without O(service).
    type: bool
    default: false
  restart_check:
    description:
      - A command run after a successful V(reload) (O(activate=reload)). When it prints
        anything, the service still waits for a restart to apply the new configuration (the
        output names what waits), and it is restarted in the same transaction, before
        O(probe). A run that stops after this module leaves no service applying only part of
        its new configuration.
      - If the check or the restart fails, the files are restored and the service is
        brought back to them (restarted if it was).
      - For PostgreSQL, C(psql) asking which settings C(pg_settings) flags as C(pending_restart) or
        C(pg_file_settings) (which parses the files when asked) reports it cannot apply without a restart.
    type: list
    elements: str
  probe:
    description: A health check run after activation; it is retried until O(probe.timeout).
    type: dict
    suboptions:
      url:
        description: An C(http://) or C(https://) URL to request with GET.
        type: str
      status:
        description: The HTTP status the URL must answer with.
        type: int
        default: 200
      contains:
        description: Text the response body must contain.
        type: str
      host_header:
        description: The C(Host) header to send.
        type: str
      validate_certs:
        description: Verify the server's certificate for C(https://) URLs.
        type: bool
        default: false
      tcp_port:
        description: Instead of a URL, a TCP port that must accept connections.
        type: int
      host:
        description: The address for O(probe.tcp_port).
        type: str
        default: 127.0.0.1
      timeout:
        description: Seconds to keep trying. A failed attempt is tried again after half a second.
        type: float
        default: 10
      request_timeout:
        description:
          - Seconds one attempt may take (a request, a connection).
          - Without it, O(probe.timeout) but at least 1 and at most 5 seconds.
        type: float
notes:
  - The previous content is kept in memory for the duration of the run, so no backup files
    are left behind on the host.
seealso:
  - name: Transactional configuration
    description: DESIGN.md of the collection explains the mechanism.
    link: https://github.com/groundwork/server/blob/main/README.md
"""

EXAMPLES = r"""
- name: Apply the nginx configuration as one validated change
  groundwork.server.service_config:
    service: nginx.service
    validate: [/usr/sbin/nginx, -t, -q]
    owned_dirs: [/etc/nginx/sites-enabled]
    files:
      - path: /etc/nginx/nginx.conf
        content: "{{ lookup('ansible.builtin.template', 'nginx.conf.j2') }}"
      - path: /etc/nginx/sites-enabled/shop.conf
        content: "{{ lookup('ansible.builtin.template', 'site.conf.j2') }}"
      - path: /etc/nginx/htpasswd/shop
        content: "admin:{{ shop_password_hash }}\n"
        group: www-data
        mode: "0640"
        secret: true
    probe:
      url: http://127.0.0.1/healthz
      status: 200

- name: Enable the ssl module of Apache with its configuration, checked before the reload
  groundwork.server.service_config:
    service: apache2.service
    validate: [/usr/sbin/apache2ctl, configtest]
    files:
      - path: /etc/apache2/mods-enabled/ssl.load
        state: link
        src: ../mods-available/ssl.load
      - path: /etc/apache2/mods-enabled/ssl.conf
        state: link
        src: ../mods-available/ssl.conf
      - path: /etc/apache2/conf-enabled/tls.conf
        content: "{{ lookup('ansible.builtin.template', 'tls.conf.j2') }}"
"""

RETURN = r"""
files_changed:
  description:
    - Files written (created, updated, or with new owner, group or mode) and symbolic links
      created or pointed at a new target.
  returned: always
  type: list
  elements: str
  sample: [/etc/nginx/nginx.conf]
files_removed:
  description: Files and symbolic links removed, including unmanaged leftovers in O(owned_dirs).
  returned: always
  type: list
  elements: str
  sample: [/etc/nginx/sites-enabled/default]
activated:
  description: Whether the service was reloaded or restarted with the new configuration.
  returned: always
  type: bool
restarted:
  description: Whether O(restart_check) found that the reload was not enough and the service was restarted.
  returned: always
  type: bool
failed_stage:
  description: "Where a failed change stopped: V(write), V(validate), V(activate) or V(probe)."
  returned: failure
  type: str
  sample: validate
restored:
  description: Whether every file and the service were brought back after a failure.
  returned: failure
  type: bool
validate_output:
  description: What the checker printed when it rejected the configuration.
  returned: failure
  type: str
  sample: 'nginx: [emerg] unknown directive "bogus" in /etc/nginx/sites-enabled/shop.conf:12'
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.groundwork.server.plugins.module_utils._service_config.core import (
    FileSpec,
    ServiceConfigError,
    apply,
    parse_mode,
)
from ansible_collections.groundwork.server.plugins.module_utils._service_config.host import LocalHost

FILE_OPTIONS = {
    "path": {"type": "path", "required": True},
    "content": {"type": "str"},
    "state": {"type": "str", "choices": ["present", "link", "absent"], "default": "present"},
    "src": {"type": "str"},
    "owner": {"type": "str", "default": "root"},
    "group": {"type": "str", "default": "root"},
    "mode": {"type": "str", "default": "0644"},
    "secret": {"type": "bool", "default": False},
}
PROBE_OPTIONS = {
    "url": {"type": "str"},
    "status": {"type": "int", "default": 200},
    "contains": {"type": "str"},
    "host_header": {"type": "str"},
    "validate_certs": {"type": "bool", "default": False},
    "tcp_port": {"type": "int"},
    "host": {"type": "str", "default": "127.0.0.1"},
    "timeout": {"type": "float", "default": 10},
    "request_timeout": {"type": "float"},
}


def main():
    module = AnsibleModule(
        argument_spec={
            "files": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": FILE_OPTIONS,
                "required_if": [["state", "link", ["src"]]],
                "mutually_exclusive": [["content", "src"]],
            },
            "owned_dirs": {"type": "list", "elements": "path", "default": []},
            "validate": {"type": "list", "elements": "str"},
            "service": {"type": "str"},
            "activate": {"type": "str", "choices": ["reload", "restart", "none"], "default": "reload"},
            "restart_check": {"type": "list", "elements": "str"},
            "daemon_reload": {"type": "bool", "default": False},
            "probe": {
                "type": "dict",
                "options": PROBE_OPTIONS,
                "required_one_of": [["url", "tcp_port"]],
                "mutually_exclusive": [["url", "tcp_port"]],
            },
        },
        supports_check_mode=True,
    )
    params = module.params
    # Secret contents are masked everywhere the module reports, its arguments included.
    module.no_log_values.update(f["content"] for f in params["files"] if f["secret"] and f["content"])
    try:
        files = [
            FileSpec(
                path=f["path"],
                content=f["content"],
                state=f["state"],
                owner=f["owner"],
                group=f["group"],
                mode=parse_mode(f["mode"]),
                secret=f["secret"],
                src=f["src"],
            )
            for f in params["files"]
        ]
        result = apply(
            LocalHost(module.run_command),
            files,
            owned_dirs=params["owned_dirs"],
            validate=params["validate"],
            service=params["service"],
            activate=params["activate"],
            probe=params["probe"],
            check_mode=module.check_mode,
            restart_check=params["restart_check"],
            daemon_reload=params["daemon_reload"],
        )
    except ServiceConfigError as exc:
        module.fail_json(msg=str(exc))
    values = {
        "changed": result.changed,
        "files_changed": result.files_changed,
        "files_removed": result.files_removed,
        "activated": result.activated,
        "restarted": result.restarted,
    }
    if module._diff:
        values["diff"] = result.diff
    if result.failed:
        module.fail_json(
            msg=result.msg,
            failed_stage=result.failed_stage,
            restored=result.restored,
            validate_output=result.validate_output,
            **values,
        )
    module.exit_json(msg=result.msg, **values)


if __name__ == "__main__":
    main()
