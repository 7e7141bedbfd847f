#!/usr/bin/python
# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: host_info
short_description: Read what a role needs to know about a host in one command, without a module run
version_added: 0.1.0
description:
  - Runs one shell command on the host that reads its release (RV(os)), the state of O(files)
    and the entries of O(dirs), and runs a read-only inspection O(program) (Python source using only the
    standard library), and returns all of it.
  - The same one-command mechanism is how the roles of this collection inspect a host
    (M(groundwork.server.role_plan) with the shared probe library) and decide, on the
    controller, what has to change -
    a run with nothing to do costs each role one command on the host instead of one module
    run per question. Running a module means sending and unpacking Ansible's module code
    and importing it on the host, about a third of a second of CPU each; this command
    starts Python once with nothing but the standard library.
  - The program and the request travel compressed and base64-encoded in the command's
    arguments, so nothing in them needs shell quoting. The program runs with
    C(sys.argv) set to V(program) followed by O(argv), and must print one JSON document.
  - Python is the host's C(ansible_python_interpreter) when it is set, else the one Ansible
    discovered, else C(/usr/bin/python3).
  - This is an action plugin; it honours C(become).
author: groundwork developers (@groundwork)
extends_documentation_fragment:
  - groundwork.server.attributes.read_only
  - groundwork.server.attributes.one_command
options:
  program:
    description:
      - Python source of a read-only inspection, typically C(lookup('ansible.builtin.file', 'inspect.py'))
        of the role's C(files/). It prints one JSON document, returned as RV(info).
    type: str
  argv:
    description: The program's arguments.
    type: list
    elements: str
    default: []
  files:
    description:
      - Files whose state is returned in RV(files) (the digest of the content, not the content,
        so a secret file can be compared without being read back).
    type: list
    elements: str
    default: []
  dirs:
    description: Directories whose entries are returned in RV(dirs).
    type: list
    elements: str
    default: []
notes:
  - The program must only read. It runs in check mode too.
seealso:
  - module: groundwork.server.service_config
"""

EXAMPLES = r"""
- name: Inspect the host
  groundwork.server.host_info:
    program: "{{ lookup('ansible.builtin.file', 'inspect.py') }}"
    argv: ["{{ {'units': ['nginx.service']} | to_json }}"]
    files: [/etc/nginx/nginx.conf]
    dirs: [/etc/nginx/sites-enabled]
  register: __nginx_inspect

- name: Show which of the files are missing
  ansible.builtin.debug:
    msg: >-
      {{ __nginx_inspect.files | dict2items | selectattr('value.state', 'eq', 'absent')
         | map(attribute='key') }}
"""

RETURN = r"""
os:
  description: The host's release and whether it is a container; read on every call.
  returned: always
  type: dict
  contains:
    id:
      description: C(ID) of C(/etc/os-release), for example V(debian).
      type: str
    name:
      description: C(NAME) of C(/etc/os-release), for example V(Debian GNU/Linux).
      type: str
    version_id:
      description: C(VERSION_ID), the major release on Debian (V(12)); empty on testing and unstable.
      type: str
    codename:
      description: C(VERSION_CODENAME), for example V(bookworm).
      type: str
    version:
      description: The point release from C(/etc/debian_version) on Debian (V(12.8)), else RV(os.version_id).
      type: str
    container:
      description:
        - The container manager the host runs under (what systemd detected at boot, for example
          V(docker), V(podman), V(lxc), V(systemd-nspawn)), or V(none) on a virtual machine or hardware.
      type: str
files:
  description:
    - For each path of O(files) its state. C(state) is V(absent), V(link) (with C(target)),
      V(directory) (with C(owner), C(uid), C(group), C(gid) and C(mode)), V(other) (a socket, a
      device, ...), V(error) (with C(error)), or V(file) with C(sha256), C(size), C(owner), C(uid),
      C(group), C(gid) and C(mode).
  returned: always
  type: dict
  sample:
    /etc/nginx/nginx.conf:
      state: file
      sha256: 5b2f...e1
      size: 1432
      owner: root
      uid: 0
      group: root
      gid: 0
      mode: "0644"
dirs:
  description:
    - For each directory of O(dirs) its entries, each with its kind (V(file), V(link), V(dir) or
      V(other)); empty when the directory does not exist.
  returned: always
  type: dict
  sample:
    /etc/nginx/sites-enabled: {default: link, shop.conf: file}
info:
  description: The JSON document the program printed; V(null) without O(program).
  returned: always
  type: raw
"""
