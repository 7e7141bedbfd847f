#!/usr/bin/python
# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: mariadb_objects
short_description: Users, databases and privileges of the local MariaDB server in one call
version_added: 0.1.0
description:
  - Makes the users, databases and privileges of the MariaDB server on the managed host exactly what
    O(users), O(databases) and O(grants) declare, in one module call for the whole list - one connection
    reads the server's grant tables, the plan is computed on the host, and the same connection applies it.
  - The module connects as C(root) over the server's Unix socket (C(unix_socket) authentication, as
    Debian sets C(root@localhost) up), so it runs as the system's C(root).
  - A user name declared V(present) owns exactly the accounts C('name'@'host') for the hosts in
    O(users[].hosts); its accounts on other hosts are dropped. V(absent) drops every account of the
    name. Users that are not declared are never touched, and system accounts (C(root), C(mysql),
    C(mariadb.sys), C(debian-sys-maint), C(PUBLIC), the anonymous one) are refused.
  - Passwords never reach the server in clear text. The module computes what the server stores on the
    host (C(ed25519) - the Ed25519 public key of the password, in pure Python - or the
    C(mysql_native_password) double SHA-1) and sets it with C(IDENTIFIED VIA plugin USING 'stored value').
    The stored value is compared with the computed one, so an unchanged password changes nothing.
    The C(auth_ed25519) plugin is installed (C(INSTALL SONAME)) when an account needs it.
  - For every account of every present user, the privileges on databases (C(db.*)) and tables (C(db.table))
    become exactly the union of its present O(grants); everything else the account holds is revoked -
    privileges on other databases and tables, global privileges (C(USAGE) aside), column and routine
    privileges, granted roles and C(GRANT OPTION). A database-level grant matches its database only
    (the C(_) in the name is escaped, not a wildcard).
  - With O(secure=true), the module also drops anonymous accounts, the C(test) database and the
    C(test)/C(test\_%) rows of C(mysql.db) (those of declared users are handled as their grants), drops
    C(root) accounts on hosts other than C(localhost), and makes C(root@localhost) authenticate via
    C(unix_socket) only when it has a usable password (Debian's default C(mysql_native_password USING
    'invalid' OR unix_socket) is left alone).
  - >-
    Every refusal names the item and the key, for example
    C(users[0] (counter): plugin 'sha256' is not one of ed25519, mysql_native_password).
author: groundwork developers (@groundwork)
extends_documentation_fragment:
  - groundwork.server.attributes.database_objects
options:
  socket:
    description: The server's Unix socket.
    type: path
    default: /run/mysqld/mysqld.sock
  secure:
    description:
      - Remove what a fresh installation may leave open, see the description. Each removal is a reported
        change.
      - With V(true), a database or grant named C(test) is refused.
    type: bool
    default: true
  users:
    description: The users.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The user name, 1 to 80 of C(A-Z), C(a-z), C(0-9) and C(_).
        type: str
        required: true
      hosts:
        description:
          - The MariaDB host specifications of the user's accounts (host names, addresses, C(%) and C(_)
            wildcards, C(address/netmask)); exactly these accounts exist afterwards. Compared in lower case.
          - Required (at least one) for O(users[].state=present).
        type: list
        elements: str
        default: []
      password:
        description:
          - The password. Without it, the authentication of existing accounts is left alone (a warning
            tells when it is not O(users[].plugin)); creating an account without one is refused.
          - Must not be empty.
        type: str
      plugin:
        description: How the accounts authenticate, V(ed25519) or V(mysql_native_password).
        type: str
        default: ed25519
      tls:
        description: >-
          What the accounts must connect with: V(ssl) (C(REQUIRE SSL)), V(x509) (C(REQUIRE X509), a client
          certificate) or V(none) (C(REQUIRE NONE)).
        type: str
        default: ssl
      state:
        description: V(present), or V(absent) to drop every account of the name.
        type: str
        default: present
  databases:
    description: The databases.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - The database's name, 1 to 64 of C(A-Z), C(a-z), C(0-9) and C(_).
          - C(mysql), C(information_schema), C(performance_schema) and C(sys) are refused.
        type: str
        required: true
      character_set:
        description: The default character set (as this server names it, C(utf8) is C(utf8mb3)).
        type: str
        default: utf8mb4
      collation:
        description: The default collation, one of O(databases[].character_set)'s.
        type: str
        default: utf8mb4_unicode_ci
      state:
        description: V(present) creates the database or sets its defaults, V(absent) drops it with its data.
        type: str
        default: present
  grants:
    description: Privileges of declared users, on every account of the user.
    type: list
    elements: dict
    default: []
    suboptions:
      user:
        description: The user, declared in O(users).
        type: str
        required: true
      database:
        description: The database (C(*), global privileges, is refused; so are the system databases).
        type: str
        required: true
      table:
        description:
          - V(*) for the whole database, or a table's name.
          - MariaDB grants on a table only when it exists (C(CREATE) aside); a missing one is refused.
        type: str
        default: "*"
      privileges:
        description:
          - Privilege names such as V(SELECT) or V(CREATE TEMPORARY TABLES), or V(ALL) (V(ALL PRIVILEGES)),
            which means every privilege of the level on this server except C(GRANT OPTION).
          - Checked against the privileges the server knows at the level.
        type: list
        elements: str
        required: true
      state:
        description: V(present), or V(absent) to revoke these privileges (also from a present grant's set).
        type: str
        default: present
requirements:
  - PyMySQL on the managed host (Debian package C(python3-pymysql)).
notes:
  - Global privileges cannot be declared; accounts of declared users lose any they have.
  - Proxy privileges, resource limits, account locking and password expiry are not managed.
  - A password validation plugin (such as C(simple_password_check)) with C(strict_password_validation=ON),
    the server's default, refuses passwords given as stored values; the module then fails naming the change.
seealso:
  - module: groundwork.server.postgresql_objects
"""

EXAMPLES = r"""
- name: Create the application's users, database and privileges
  groundwork.server.mariadb_objects:
    users:
      - name: counter
        hosts: ["172.18.0.5", "10.1.0.0/255.255.0.0"]
        password: "{{ vault_counter_db_password }}"
      - name: report
        hosts: [localhost]
        password: "{{ vault_report_db_password }}"
        plugin: mysql_native_password
        tls: none
      - name: olduser
        state: absent
    databases:
      - name: counter
    grants:
      - user: counter
        database: counter
        privileges: [SELECT, INSERT, UPDATE, DELETE, CREATE, INDEX, ALTER, DROP]
      - user: report
        database: counter
        table: hits
        privileges: [SELECT]
"""

RETURN = r"""
changes:
  description: What was (or, in check mode, would be) changed, one sentence per change, without secrets.
  returned: always
  type: list
  elements: str
  sample:
    - "user counter@172.18.0.5: created (ed25519, REQUIRE SSL)"
    - "database counter: created (utf8mb4, utf8mb4_unicode_ci)"
    - "grant SELECT, INSERT on counter.* to counter@172.18.0.5: granted"
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.groundwork.server.plugins.module_utils._mariadb.core import (
    ARGUMENTS,
    COLLATIONS_FALLBACK,
    QUERIES,
    MariadbError,
    State,
    describe,
    describe_declared,
    needs_global_grants,
    plan,
    show_grants,
    table_grant_databases,
    tables_query,
    validate,
)

try:
    import pymysql
    import pymysql.cursors
except ImportError:
    PYMYSQL_ERROR = traceback.format_exc()
    pymysql = None
else:
    PYMYSQL_ERROR = None


def _mask(text, secrets):
    for secret in secrets:
        text = text.replace(secret, "********")
    return text


def _rows(cursor, sql, args=None):
    cursor.execute(sql, args)
    return list(cursor.fetchall())


def read(cursor, declared):
    """The rows State needs."""
    results = {}
    for name, sql in QUERIES.items():
        if name == "collations":
            try:
                results[name] = _rows(cursor, sql)
            except pymysql.MySQLError:
                results[name] = _rows(cursor, COLLATIONS_FALLBACK)
        else:
            results[name] = _rows(cursor, sql)
    databases = table_grant_databases(declared)
    results["tables"] = _rows(cursor, *tables_query(databases)) if databases else []
    results["global_grants"] = {}
    for key in needs_global_grants(results, declared):
        cursor.execute(*show_grants(*key))
        results["global_grants"][key] = [next(iter(row.values())) for row in cursor.fetchall()]
    return results


class Failure(Exception):
    """A failure after changes may have been made: the message and the changes made."""

    def __init__(self, message, done):
        super().__init__(message)
        self.done = done


def apply(cursor, todo):
    """Execute the plan's statements in order; Failure names the change that failed."""
    done = []
    for change, statements in todo.steps:
        try:
            for sql, args in statements:
                cursor.execute(sql, args)
        except pymysql.MySQLError as error:
            raise Failure(_mask(f"MariaDB failed ({change}): {error}", todo.secrets), done) from None
        done.append(change)


def run(module):
    """Validate, read, plan and (unless in check mode) apply; the module's result."""
    declared = validate(module.params)
    try:
        connection = pymysql.connect(
            unix_socket=module.params["socket"],
            user="root",
            charset="utf8mb4",
            autocommit=True,
            connect_timeout=10,
            cursorclass=pymysql.cursors.DictCursor,
        )
    except pymysql.MySQLError as error:
        raise MariadbError(
            f"cannot connect to MariaDB as root over {module.params['socket']}: {error}"
        ) from None
    try:
        with connection.cursor() as cursor:
            try:
                state = State(read(cursor, declared))
            except pymysql.MySQLError as error:
                raise MariadbError(f"reading the server's state failed: {error}") from None
            todo = plan(declared, state)
            module.no_log_values.update(todo.secrets)
            for warning in todo.warnings:
                module.warn(warning)
            if not module.check_mode:
                apply(cursor, todo)
    finally:
        connection.close()
    return {
        "changed": todo.changed,
        "changes": todo.changes,
        "diff": {"before": describe(declared, state), "after": describe_declared(declared, state)},
    }


def main():
    module = AnsibleModule(argument_spec=ARGUMENTS, supports_check_mode=True)
    if pymysql is None:
        module.fail_json(
            msg=missing_required_lib("PyMySQL (Debian package python3-pymysql)"), exception=PYMYSQL_ERROR
        )
    try:
        module.exit_json(**run(module))
    except MariadbError as error:
        module.fail_json(msg=str(error))
    except Failure as error:
        module.fail_json(msg=str(error), changed=bool(error.done), changes=error.done)


if __name__ == "__main__":
    main()
