# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: site_htpasswd
short_description: Hash a password for a web server's basic authentication file (SHA-512 crypt)
version_added: 0.1.0
author: groundwork developers
description:
  - Returns the C($6$) SHA-512 crypt hash of a password, as the C(crypt) function of glibc and
    libxcrypt computes it, which nginx and Apache accept in their user files.
  - Pure Python (no passlib, no C(crypt) module), so it works on every controller.
  - The salt is derived from O(seed) (for example the host, site and user names), so the same
    password gives the same hash on every run and the file only changes when the password does.
    Never put the password itself into the seed.
options:
  _input:
    description: The password.
    type: str
    required: true
  seed:
    description: Public text the salt is derived from.
    type: str
    required: true
  rounds:
    description:
      - Number of rounds (1000 to 999999999); 5000 is the C(crypt) default and omitted from the hash.
    type: int
    default: 5000
"""

EXAMPLES = r"""
- name: Write a user file
  ansible.builtin.copy:
    content: |
      alice:{{ vault_alice_password | groundwork.server.site_htpasswd(inventory_hostname ~ ':shop:alice') }}
    dest: /etc/nginx/htpasswd
    mode: "0640"
  no_log: true
"""

RETURN = r"""
_value:
  description: The hash, C($6$<salt>$<hash>) or C($6$rounds=<n>$<salt>$<hash>).
  type: str
"""


# The logic lives in plugin_utils/_site_htpasswd.py: Ansible loads every filter file of a collection
# whenever one of its filters is used (in every worker process), so the files stay small
# and only the filter a task calls imports its code.


def site_htpasswd(*args, **kwargs):
    from ansible_collections.groundwork.server.plugins.plugin_utils._site_htpasswd import site_htpasswd as run

    return run(*args, **kwargs)


class FilterModule:
    def filters(self):
        return {"site_htpasswd": site_htpasswd}
