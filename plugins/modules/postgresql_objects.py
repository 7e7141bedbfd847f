#!/usr/bin/python
# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: postgresql_objects
short_description: Roles, databases, extensions and privileges of a local PostgreSQL cluster in one call
version_added: 0.1.0
description:
  - Makes the roles, databases, extensions and grants of a PostgreSQL cluster on the managed host what
    O(roles), O(databases) and O(grants) declare, in one module call for the whole list - one C(psql)
    run reads the cluster, one reads the declared databases, one applies every change.
  - C(psql) runs as the C(postgres) system user (C(runuser)) over the local socket, with the SQL on its
    standard input, so nothing appears on a command line.
  - Passwords are sent as SCRAM-SHA-256 verifiers computed on the host with a random salt - the clear
    text never reaches the server, its logs or the process list. An existing verifier is checked against
    the declared password, so an unchanged password changes nothing.
  - Every declared database is closed to C(PUBLIC) (C(CONNECT) and C(TEMPORARY) revoked); its owner and
    the roles granted C(CONNECT) may connect.
  - Grants on V(tables), V(sequences) or V(functions) cover every existing object of the schema and, through
    default privileges of the database owner, the ones created later.
  - Items with O(roles[].state=absent) are dropped (what a dropped role owns is reassigned to C(postgres)
    first; its privileges are dropped); databases with O(databases[].state=absent) are dropped, also when
    clients are connected.
  - The existing encoding and locale of a database are never changed; a difference is reported as a warning.
author: groundwork developers (@groundwork)
extends_documentation_fragment:
  - groundwork.server.attributes.database_objects
attributes:
  action:
    support: full
    description: >-
      An action plugin reads the cluster with one command and plans on the controller; the module runs
      on the host only when the plan changes something (or the read failed, and the module says why).
options:
  port:
    description: The port of the cluster (it selects the cluster's socket).
    type: int
    default: 5432
  roles:
    description: The roles.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The role's name.
        type: str
        required: true
      password:
        description: The password; none leaves the current one (or none) alone.
        type: str
      login:
        description: Whether the role may log in.
        type: bool
        default: true
      member_of:
        description: The roles this role is a member of; other memberships are revoked.
        type: list
        elements: str
        default: []
      state:
        description: V(absent) drops the role.
        type: str
        choices: [present, absent]
        default: present
  databases:
    description: The databases.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The database's name.
        type: str
        required: true
      owner:
        description: The owning role.
        type: str
        default: postgres
      encoding:
        description: Encoding of a new database.
        type: str
        default: UTF8
      locale:
        description: C(LC_COLLATE) and C(LC_CTYPE) of a new database.
        type: str
        default: C.UTF-8
      extensions:
        description: Extensions created in the database.
        type: list
        elements: str
        default: []
      state:
        description: V(absent) drops the database.
        type: str
        choices: [present, absent]
        default: present
  grants:
    description: Privileges of roles.
    type: list
    elements: dict
    default: []
    suboptions:
      role:
        description: The role that gets the privileges.
        type: str
        required: true
      database:
        description: The database.
        type: str
        required: true
      "on":
        description: What the privileges apply to.
        type: str
        choices: [database, schema, tables, sequences, functions]
        default: database
      schema:
        description: The schema, unless O(grants[].on=database).
        type: str
        default: public
      privileges:
        description: Privilege names, like V(CONNECT), V(SELECT) or V(ALL).
        type: list
        elements: str
        required: true
      state:
        description: V(absent) revokes the privileges.
        type: str
        choices: [present, absent]
        default: present
notes:
  - Needs C(psql) and C(runuser) on the host and a running cluster that lets the C(postgres) system user
    in over the socket (C(peer), as Debian's default C(pg_hba.conf) does).
"""

EXAMPLES = r"""
- name: Create the application's role and database
  groundwork.server.postgresql_objects:
    roles:
      - name: shop
        password: "{{ vault_shop_db_password }}"
      - name: shop_ro
        password: "{{ vault_shop_ro_password }}"
    databases:
      - name: shop
        owner: shop
        extensions: [pgcrypto]
    grants:
      - {role: shop_ro, database: shop, privileges: [CONNECT]}
      - {role: shop_ro, database: shop, "on": tables, privileges: [SELECT]}
"""

RETURN = r"""
changes:
  description: What was (or, in check mode, would be) changed, one sentence per change, without secrets.
  returned: always
  type: list
  elements: str
  sample: [create role shop with a password, create database shop owned by shop]
"""

import json

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.groundwork.server.plugins.module_utils._postgresql.core import (
    ARGUMENTS,
    CLUSTER_QUERY,
    DatabaseState,
    database_script,
    describe,
    describe_declared,
    normalize_grants,
    plan,
)


def psql(module, script, secrets=()):
    """Run a psql script as postgres over the socket; its output lines."""
    argv = [
        "/usr/sbin/runuser", "-u", "postgres", "--",
        "/usr/bin/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
        "-p", str(module.params["port"]), "-d", "postgres",
    ]  # fmt: skip
    rc, out, err = module.run_command(argv, data=script, cwd="/", binary_data=True)
    if rc != 0:
        message = err.strip() or out.strip()
        for secret in secrets:
            message = message.replace(secret, "********")
        module.fail_json(msg=f"psql failed: {message}", rc=rc)
    return [line for line in out.splitlines() if line.strip()]


def main():
    module = AnsibleModule(argument_spec=ARGUMENTS, supports_check_mode=True)
    params = module.params
    normalize_grants(params["grants"])

    cluster = json.loads(psql(module, CLUSTER_QUERY)[0])
    existing = {database["name"] for database in cluster["databases"]}
    declared = [
        db["name"] for db in params["databases"] if db["state"] == "present" and db["name"] in existing
    ]
    states = {}
    if declared:
        for line in psql(module, database_script(declared)):
            data = json.loads(line)
            states[data["database"]] = DatabaseState(data)

    todo = plan(params["roles"], params["databases"], params["grants"], cluster, states)
    module.no_log_values.update(todo.secrets)
    result = {
        "changed": todo.changed,
        "changes": todo.changes,
        "diff": {
            "before": describe(params["roles"], params["databases"], params["grants"], cluster, states),
            "after": describe_declared(
                params["roles"], params["databases"], params["grants"], cluster, states
            ),
        },
    }
    for warning in todo.warnings:
        module.warn(warning)
    if todo.changed and not module.check_mode:
        psql(module, todo.script(), todo.secrets)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
