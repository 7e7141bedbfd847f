# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Generated bad input for the converged hosts of the baseline scenario (issue 16).

A case is one role applied to one converged host with its valid configuration and ONE field
made bad: the role must refuse it with a message that names the field, and the host's
configuration, data and services must stay exactly as they were (side_effect.yml checks).

The cases come from two tables, not from a list of examples:

* ``FIELDS``: every field of every role the scenario converges, where it sits in the role's
  variables (a path into a variable, ``+`` appends to a list, ``*`` is a new key of a mapping),
  and which CLASSES of bad input apply to it;
* ``CLASSES``: one generator per class of bad input, drawing a bad value from the field's
  valid (converged) value and a seeded random source.

Usage (side_effect.yml runs it on the controller):

    generate.py --values VALUES.json --out DIR [--seed N]

``VALUES.json`` is ``{host: {"groups": [...], "vars": {variable: value}}}``: the converged,
templated values of the roles' variables of every host. Written to ``DIR``:
``cases.yml`` (the tasks side_effect.yml includes: one block per case) and ``cases.json``
(the cases, for the summary). The seed (``--seed``, else ``GW_BADINPUTS_SEED``, else 16) is
printed with the number of cases per role and per class: the same seed and inventory give
the same cases. Of all the cases the classes give, ``--count`` (or ``GW_BADINPUTS_COUNT``,
default 130) are applied: one of every field first, then drawn ones. ``--only`` (or
``GW_BADINPUTS_ONLY``), roles or case numbers separated by commas, keeps only those cases
of the whole set instead (to reproduce one: the numbers are those of the whole set).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import string
import sys
from collections import Counter

ROLES = ("base", "firewall", "tls", "nginx", "apache", "postgresql", "mariadb", "app")
# C0, DEL, C1 and the Unicode line/paragraph separators (tests/unit/bad_values.py's CONTROL_CHARS).
CONTROL_CHARS = [chr(c) for c in range(0x20)] + [chr(c) for c in range(0x7F, 0xA0)] + ["\u2028", "\u2029"]
LOWER = string.ascii_lowercase

# The characters that end a token in the syntax a field is written to (where the value is
# not quoted by construction).
TOKENS = {
    "nginx": " ;{}\"'#$\\",
    "apache": ' "<>#\\',
    "sql": "'\";\\ ",
    "ini": '=#;[] "',
    "unit": "% ;\"'\\$",
    "env": "= $`\"'\\",
    "nft": ' ;{}"#',
    "sshd": ' ,#"',
    "name": " /:;,'\"$*?<>|&",
    "cron": ";\"'\\$`|&",
    # A command line (ExecStart=): a space separates its words, '%' and '$' are doubled by
    # construction and ';' inside a word is literal, so inserting any of them gives another
    # well-formed command that only running it can judge (molecule/app tests that one: it fails
    # its health check and the previous unit comes back). What breaks the line's syntax is a
    # quote left open, an escape, or ';' as a word of its own (a second command).
    "exec": ['"', "'", "\\", " ; "],
}


# ---------------------------------------------------------------------------------------
# Classes: each takes (rng, valid value, field) and returns a bad value, or None when the
# class cannot make this field bad (the case is then not generated).


def _insert(rng, value, chars):
    text = value if isinstance(value, str) and value else "value"
    at = rng.randint(0, len(text))
    return text[:at] + rng.choice(chars) + text[at:]


def control(rng, value, field):
    """A control character (C0, DEL, C1, U+2028/9) inserted at a random place."""
    return _insert(rng, value, CONTROL_CHARS)


def token(rng, value, field):
    """A character that ends a token of the field's target syntax."""
    return _insert(rng, value, TOKENS[field["syntax"]])


def escape(rng, value, field):
    """A name or path that escapes its directory: '..', '/abs', 'a/b', '../x', 'x/../../y'."""
    word = "".join(rng.choice(LOWER) for _index in range(rng.randint(1, 6)))
    return rng.choice(
        ["..", f"../{word}", f"{word}/../../etc/{word}", f"/{word}", f"{word}/{word}", f"/etc/../{word}"]
    )


def bad_path(rng, value, field):
    """A path that is not absolute and normalised: relative, '..', '.', '//', trailing '/'."""
    parts = [w for w in (value or "/srv/x").split("/") if w] or ["x"]
    word = "".join(rng.choice(LOWER) for _index in range(rng.randint(1, 6)))
    return rng.choice(
        [
            "/".join(parts),
            "/" + "/".join([*parts[:-1], "..", word]),
            "/" + "/".join([parts[0], ".", *parts[1:]]),
            "//" + "/".join(parts),
            "/" + "/".join(parts) + "/",
            "/../" + "/".join(parts),
        ]
    )


def number(rng, value, field):
    """A whole number out of range: with ``exact`` bounds (the role's documented range) just
    outside them or anywhere beyond, else a negative or an absurdly large number. Values
    the field also allows (``also``, e.g. 0 for "off") are never drawn."""
    low, high = field["range"]
    also = field.get("also", ())
    while True:
        if field.get("exact"):
            below = low - 1 if rng.random() < 0.5 else rng.randint(low - 100000, low - 1)
            above = (
                None
                if high is None
                else (high + 1 if rng.random() < 0.5 else rng.randint(high + 1, high * 1000))
            )
        else:
            below = rng.randint(-100000, -1)
            above = rng.randint(10**10, 10**12)
        bad = rng.choice([v for v in (below, above) if v is not None])
        if bad not in also:
            return bad


def wrong_type(rng, value, field):
    """A value of a type the field does not take: a word for a number, a list or a mapping
    for a string (the argument spec turns numbers into strings), a word for a boolean."""
    kind = field.get("type", "str")
    word = "".join(rng.choice(LOWER) for _index in range(rng.randint(3, 8)))
    if kind == "int":
        return rng.choice([word, [rng.randint(1, 9)], {word: 1}, f"{rng.randint(1, 9)}.5"])
    if kind == "bool":
        return rng.choice([word, [True], {word: True}])
    if kind == "list":
        return rng.choice([{word: word}, rng.randint(2, 99)])
    return rng.choice([[word], {word: word}])


def choice(rng, value, field):
    """A value that is not one of the field's choices: a near miss (case, suffix) or a word."""
    valid = field["choices"]
    base = str(rng.choice(valid))
    word = "".join(rng.choice(LOWER) for _index in range(rng.randint(3, 8)))
    candidates = [base.upper(), base + "x", " " + base, base + "-" + word, word]
    return rng.choice([c for c in candidates if c not in valid])


def package(rng, value, field):
    """A name outside Debian's package-name syntax (Policy 5.6.7)."""
    word = "".join(rng.choice(LOWER) for _index in range(rng.randint(2, 8)))
    return rng.choice(
        [
            rng.choice(LOWER),
            _insert(rng, word, string.ascii_uppercase + " ;&|$`'\"/\\*?!<>(){}_"),
            "-" + word,
            word + " --allow-unauthenticated",
            _insert(rng, word, CONTROL_CHARS),
        ]
    )


def reference(rng, value, field):
    """A name that resolves to nothing: a certificate, upstream, group, host, role, user or
    database that the inventory and the role's model do not have."""
    word = "".join(rng.choice(LOWER + string.digits) for _index in range(6))
    return f"{field.get('prefix', 'missing')}-{word}"


def setting(rng, value, field):
    """A server setting the installed server does not know, or a value it rejects."""
    word = "".join(rng.choice(LOWER) for _index in range(rng.randint(4, 9)))
    return rng.choice(field["settings"])(word, rng)


CLASSES = {
    "control": control,
    "token": token,
    "escape": escape,
    "path": bad_path,
    "number": number,
    "type": wrong_type,
    "choice": choice,
    "package": package,
    "reference": reference,
    "setting": setting,
}

# Server settings: unknown names and values the server rejects (word, rng) -> override.
PG_SETTINGS = [
    lambda w, r: {f"groundwork_{w}": "on"},
    lambda w, r: {f"shared_{w}": "128MB"},
    lambda w, r: {"work_mem": f"{r.randint(2, 64)} {w}"},
    lambda w, r: {"max_wal_senders": -r.randint(1, 99)},
    lambda w, r: {"wal_level": w},
    lambda w, r: {"random_page_cost": w},
]
MARIADB_SETTINGS = [
    lambda w, r: {f"groundwork_{w}": "1"},
    lambda w, r: {f"innodb_{w}": "ON"},
    lambda w, r: {"max_allowed_packet": f"{r.randint(2, 64)}{w}"},
    lambda w, r: {"innodb_flush_method": w},
    lambda w, r: {"slow_query_log": w},
]
NGINX_RAW = [
    lambda w, r: [f"groundwork_{w} on;"],
    lambda w, r: [f"{w}_timeout 5s;"],
    lambda w, r: ["gzip maybe;"],
    lambda w, r: ["} server { listen 8443;"],
]
APACHE_RAW = [
    lambda w, r: [f"Groundwork{w.capitalize()} On"],
    lambda w, r: [f"{w.capitalize()}Timeout 5"],
    lambda w, r: ["KeepAlive Maybe"],
    lambda w, r: ["</VirtualHost><VirtualHost *:8443>"],
]


# ---------------------------------------------------------------------------------------
# Fields: (role, host selector, path, classes, options). The host is the first host (by
# name) whose groups include the selector ("host:NAME" for one host, "any" for every host
# that has the variable) - "any" draws one of them from the seeded source. A path's last
# step names the field the refusal must name; "+" appends to a list, "*" adds a new key to a
# mapping (its value drawn by the class).


# Where each role's cases run: its one host in the scenario, or any host that has the variable.
ROLE_HOSTS = {
    "nginx": "host:bl-lb",
    "apache": "host:bl-web2",
    "postgresql": "host:bl-db",
    "mariadb": "host:bl-db2",
    "app": "host:bl-app",
}


def F(path, classes, **options):
    """A field: its path (the variable first, whose prefix names the role), the classes."""
    role = path[0].split("_")[0]
    return {"role": role, "hosts": ROLE_HOSTS.get(role, "any"), "path": path, "classes": classes, **options}


# fmt: off
FIELDS = [
    # base: users, sshd, time, packages, sysctl (every host runs it)
    F(["base_admin_users", 0, "name"], ["control", "token", "escape", "type"], syntax="name"),
    F(["base_admin_users", 0, "shell"], ["path", "control"]),
    F(["base_admin_users", 0, "ssh_keys", 0], ["control"]),
    F(["base_admin_users", 0, "groups", "+"], ["control", "token"], syntax="name", fresh="adm"),
    F(["base_admin_users", 0, "state"], ["choice"], choices=["present", "absent"]),
    F(["base_packages", "+"], ["package", "package"]),
    F(["base_hostname"], ["control", "token"], syntax="name", fresh="host1"),
    F(["base_timezone"], ["escape", "control"], fresh="Europe/Berlin"),
    F(["base_locale"], ["control", "token"], syntax="ini", fresh="en_US.UTF-8"),
    F(["base_timesync"], ["choice"], choices=["chrony", "timesyncd", "none"]),
    F(["base_ntp_servers", "+"], ["control", "token"], syntax="ini", fresh="ntp.example.org"),
    F(["base_sshd_port"], ["number", "type"], range=(1, 65535), exact=True, type="int"),
    F(["base_sshd_ciphers", "+"], ["control", "token"], syntax="sshd", fresh="aes256-gcm@openssh.com"),
    F(["base_sshd_client_alive_interval"], ["number"], range=(0, 86400), exact=True),
    F(["base_sshd_max_auth_tries"], ["number"], range=(1, 100), exact=True),
    F(["base_unattended_upgrades_reboot_time"], ["control", "token"], syntax="unit", fresh="03:30"),
    F(["base_unattended_upgrades_origins", "+"], ["control"], fresh="origin=Debian"),
    F(["base_journald_system_max_use"], ["control", "token"], syntax="ini", fresh="200M"),
    F(["base_sysctl_extra", "*"], ["control", "escape"], key=True, fresh="net.ipv4.tcp_syncookies"),
    F(["base_apt_cache_valid_time"], ["number", "type"], range=(0, 31536000), exact=True, type="int"),
    # firewall: flows, admin sources, rates, time-outs
    F(["firewall_flows", 0, "name"], ["control", "token"], syntax="nft"),
    F(["firewall_flows", 0, "port"], ["number", "type"], range=(1, 65535), exact=True, type="int"),
    F(["firewall_flows", 0, "from"], ["reference"], prefix="group"),
    F(["firewall_flows", 0, "to"], ["reference"], prefix="group"),
    F(["firewall_flows", 1, "proto"], ["choice"], choices=["tcp", "udp"]),
    F(["firewall_flows", 2, "service"], ["reference"], prefix="service"),
    F(["firewall_admin_sources", "+"], ["control", "token"], syntax="nft", fresh="192.0.2.0/24"),
    F(["firewall_ssh_port"], ["number"], range=(1, 65535), exact=True),
    F(["firewall_ssh_rate"], ["control", "token"], syntax="nft", fresh="10/minute"),
    F(["firewall_ssh_burst"], ["number"], range=(1, 10000), exact=True),
    F(["firewall_confirm_timeout"], ["number", "type"], range=(10, 3600), also=(0,), exact=True, type="int"),
    F(["firewall_log_rate"], ["control", "token"], syntax="nft", fresh="5/minute"),
    F(["firewall_rules", "+"], ["control"], fresh="tcp dport 9 drop"),
    # tls: certificate names become directories, domains go to the CSR
    F(["tls_certificates", 0, "name"], ["escape", "control", "type"]),
    F(["tls_certificates", 0, "domains", 0], ["control", "token"], syntax="name"),
    F(["tls_certificates", 0, "provider"], ["choice"],
      choices=["selfsigned", "internal_ca", "acme", "provided"]),
    F(["tls_certificates", 0, "key_type"], ["choice"],
      choices=["ecdsa_p256", "ecdsa_p384", "rsa2048", "rsa3072", "rsa4096"]),
    F(["tls_certificates", 0, "days"], ["number", "type"], range=(1, 3650), exact=True, type="int"),
    F(["tls_internal_ca_name"], ["control"]),
    F(["tls_internal_ca_host"], ["reference"], prefix="host"),
    F(["tls_internal_ca_dir"], ["path"]),
    F(["tls_renew_fraction"], ["number"], range=(2, 100), exact=True),
    F(["tls_key_group"], ["control", "token"], syntax="name", fresh="ssl-cert"),
    # nginx (bl-lb): sites, upstreams, settings, raw directives
    F(["nginx_sites", 0, "name"], ["escape", "control", "token"], syntax="nginx"),
    F(["nginx_sites", 0, "server_names", 0], ["control", "token", "type"], syntax="nginx"),
    F(["nginx_sites", 0, "port"], ["number", "type"], range=(1, 65535), exact=True, type="int"),
    F(["nginx_sites", 0, "tls", "certificate"], ["reference"], prefix="cert"),
    F(["nginx_sites", 0, "upstream"], ["reference"], prefix="upstream"),
    # A header's name is written bare, its value as a quoted, escaped literal (the site
    # model's literal): token-ending characters only make the name bad.
    F(["nginx_sites", 0, "headers", "*"], ["control", "token"], key=True, syntax="nginx",
      fresh="X-Groundwork", value="on"),
    F(["nginx_sites", 0, "headers", "*"], ["control"], fresh="max-age=60"),
    F(["nginx_sites", 0, "client_max_body_size"], ["token", "control"], syntax="nginx",
      fresh="10m"),
    F(["nginx_sites", 0, "allow", "+"], ["control", "token"], syntax="nginx",
      fresh="192.0.2.0/24"),
    F(["nginx_sites", 0, "raw_nginx"], ["setting", "setting", "setting"], settings=NGINX_RAW),
    F(["nginx_upstreams", 0, "name"], ["control", "token"], syntax="nginx"),
    F(["nginx_upstreams", 0, "method"], ["choice"],
      choices=["round_robin", "least_connections", "client_address", "hash", "least_conn", "ip_hash"]),
    F(["nginx_upstreams", 0, "servers", 0, "port"], ["number"], range=(1, 65535), exact=True),
    F(["nginx_upstreams", 0, "servers", 0, "group"], ["reference"], prefix="group"),
    F(["nginx_upstreams", 0, "max_fails"], ["number"], range=(0, 1000)),
    F(["nginx_upstreams", 0, "fail_timeout"], ["token"], syntax="nginx", fresh="10s"),
    F(["nginx_certificates", "+"], ["reference"], prefix="cert"),
    F(["nginx_keepalive_timeout"], ["control", "token"], syntax="nginx", fresh="65s"),
    F(["nginx_gzip_level"], ["number"], range=(1, 9)),
    F(["nginx_worker_connections"], ["number"], range=(1, 1048576)),
    F(["nginx_packages", "+"], ["package"]),
    F(["nginx_resolvers", "+"], ["control", "token"], syntax="nginx", fresh="127.0.0.11"),
    F(["nginx_acme_webroot"], ["path"], fresh="/var/lib/groundwork/acme"),
    # apache (bl-web2)
    F(["apache_sites", 0, "name"], ["escape", "control", "token"], syntax="apache", source="nginx_sites"),
    F(["apache_sites", 0, "server_names", 0], ["control", "token"], syntax="apache", source="nginx_sites"),
    F(["apache_sites", 0, "port"], ["number"], range=(1, 65535), exact=True, source="nginx_sites"),
    F(["apache_sites", 0, "tls", "certificate"], ["reference"], prefix="cert", source="nginx_sites"),
    F(["apache_sites", 0, "root"], ["path"], fresh="/srv/www", source="nginx_sites"),
    F(["apache_sites", 0, "headers", "*"], ["control", "token"], key=True, syntax="apache",
      fresh="X-Groundwork", value="on", source="nginx_sites"),
    F(["apache_sites", 0, "headers", "*"], ["control"], fresh="max-age=60", source="nginx_sites"),
    F(["apache_sites", 0, "raw_apache"], ["setting", "setting", "setting"],
      settings=APACHE_RAW, source="nginx_sites"),
    F(["apache_certificates", "+"], ["reference"], prefix="cert", source="nginx_certificates"),
    F(["apache_timeout"], ["number", "type"], range=(1, 86400), type="int"),
    F(["apache_keepalive_timeout"], ["number"], range=(1, 3600)),
    F(["apache_compression_level"], ["number"], range=(1, 9)),
    F(["apache_modules", "+"], ["escape", "control"]),
    F(["apache_packages", "+"], ["package"]),
    F(["apache_client_max_body_size"], ["control", "token"], syntax="apache",
      fresh="10m"),
    # postgresql (bl-db)
    F(["postgresql_roles", 0, "name"], ["control", "token", "type"], syntax="sql"),
    F(["postgresql_roles", 0, "password"], ["control"], secret=True),
    F(["postgresql_roles", 0, "member_of", "+"], ["reference"], prefix="role"),
    F(["postgresql_databases", 0, "name"], ["control", "token"], syntax="sql"),
    F(["postgresql_databases", 0, "owner"], ["reference"], prefix="role"),
    F(["postgresql_databases", 0, "encoding"], ["choice"], choices=["UTF8"]),
    F(["postgresql_databases", 0, "extensions", "+"], ["control", "token"],
      syntax="sql", fresh="pgcrypto"),
    F(["postgresql_port"], ["number", "type"], range=(1, 65535), exact=True, type="int"),
    F(["postgresql_max_connections"], ["number"], range=(1, 10000)),
    F(["postgresql_storage"], ["choice"], choices=["ssd", "hdd"]),
    F(["postgresql_settings"], ["setting"] * 5, settings=PG_SETTINGS, merge=True),
    F(["postgresql_client_networks", "+"], ["control", "token"], syntax="ini",
      fresh="192.0.2.0/24"),
    F(["postgresql_backup_dir"], ["path"], fresh="/var/backups/postgresql"),
    F(["postgresql_backup_keep"], ["number"], range=(1, None), exact=True),
    F(["postgresql_backup_schedule"], ["control", "token"], syntax="cron",
      fresh="daily"),
    F(["postgresql_backup_databases", "+"], ["reference"], prefix="db"),
    F(["postgresql_packages", "+"], ["package"]),
    F(["postgresql_certificate"], ["reference"], prefix="cert"),
    # mariadb (bl-db2)
    F(["mariadb_users", 0, "name"], ["control", "token", "type"], syntax="sql"),
    F(["mariadb_users", 0, "password"], ["control"], secret=True),
    F(["mariadb_users", 0, "plugin"], ["choice"],
      choices=["ed25519", "mysql_native_password"]),
    F(["mariadb_databases", 0, "name"], ["control", "token"], syntax="sql"),
    F(["mariadb_databases", 0, "character_set"], ["control", "token"], syntax="sql",
      fresh="utf8mb4"),
    F(["mariadb_grants", 0, "user"], ["reference"], prefix="user"),
    F(["mariadb_grants", 0, "database"], ["reference"], prefix="db"),
    F(["mariadb_grants", 0, "privileges", "+"], ["token", "control"], syntax="sql",
      fresh="SELECT"),
    F(["mariadb_port"], ["number"], range=(1, 65535), exact=True),
    F(["mariadb_max_connections"], ["number", "type"], range=(1, 100000), type="int"),
    F(["mariadb_storage"], ["choice"], choices=["ssd", "hdd"]),
    F(["mariadb_settings"], ["setting"] * 4, settings=MARIADB_SETTINGS, merge=True),
    F(["mariadb_client_networks", "+"], ["control", "token"], syntax="ini",
      fresh="192.0.2.0/24"),
    F(["mariadb_backup_dir"], ["path"], fresh="/var/backups/mariadb"),
    F(["mariadb_backup_keep"], ["number"], range=(1, None), exact=True),
    F(["mariadb_backup_databases", "+"], ["reference"], prefix="db"),
    F(["mariadb_packages", "+"], ["package"]),
    F(["mariadb_certificate"], ["reference"], prefix="cert"),
    # app (bl-app): names that become units, users and directories; the environment file
    F(["app_name"], ["escape", "control", "token"], syntax="unit"),
    F(["app_version"], ["escape", "control"]),
    F(["app_command"], ["control", "token"], syntax="exec"),
    F(["app_port"], ["number", "type"], range=(1, 65535), exact=True, type="int"),
    F(["app_user"], ["control", "token"], syntax="name", fresh="demo"),
    F(["app_base_dir"], ["path"], fresh="/srv"),
    F(["app_requirements_file"], ["escape"], fresh="requirements.txt"),
    F(["app_packages", "+"], ["package"]),
    F(["app_environment", "*"], ["control", "token"], key=True, syntax="env",
      fresh="GROUNDWORK_MODE"),
    F(["app_environment", "*"], ["control"], fresh="value"),
    F(["app_secret_environment", "*"], ["control"], secret=True, fresh="s3cret-value"),
    F(["app_database", "engine"], ["choice"], choices=["postgresql", "mariadb"]),
    F(["app_database", "host"], ["reference", "control"], prefix="host"),
    F(["app_database", "port"], ["number"], range=(1, 65535), exact=True),
    F(["app_database", "name"], ["control"]),
    F(["app_database", "password"], ["control"], secret=True),
    F(["app_database", "sslmode"], ["choice"],
      choices=["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]),
    F(["app_health_path"], ["control", "token"], syntax="unit", fresh="/healthz"),
    F(["app_health_retries"], ["number"], range=(1, 1000), exact=True),
    F(["app_health_first_retries"], ["number"], range=(1, 1000), exact=True),
    F(["app_health_timeout"], ["number"], range=(1, 3600), exact=True),
    F(["app_releases_kept"], ["number"], range=(1, 100), exact=True),
    F(["app_balancers", "+"], ["reference"], prefix="host"),
    F(["app_writable_paths", "+"], ["path"], fresh="/var/lib/demo"),
    F(["app_stop_timeout"], ["number"], range=(1, 86400), exact=True),
    F(["app_memory_deny_write_execute"], ["type"], type="bool"),
]
# fmt: on


# ---------------------------------------------------------------------------------------


def _word(rng, size=6):
    return "".join(rng.choice(LOWER) for _index in range(size))


def _valid_at(values, path):
    """The converged value at ``path`` (None when it is not there)."""
    node = values
    for step in path:
        if step in ("+", "*"):
            return None
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return None
        elif not isinstance(node, dict) or step not in node:
            return None
        node = node[step]
    return node


def _reachable(values, path):
    """The parent of the field exists (a list index that exists, a mapping)."""
    node = values
    for step in path[:-1]:
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return False
            node = node[step]
        else:
            if node is None:
                return True  # a missing mapping is created
            if not isinstance(node, dict):
                return False
            node = node.get(step)
    return True


def _set(values, path, bad, rng, field):
    """A copy of ``values`` with the field at ``path`` made ``bad``."""
    values = copy.deepcopy(values)
    node = values
    for i, step in enumerate(path[:-1]):
        nxt = path[i + 1]
        if isinstance(step, int):
            node = node[step]
            continue
        if node.get(step) is None:
            node[step] = [] if nxt in ("+",) or isinstance(nxt, int) else {}
        node = node[step]
    last = path[-1]
    if last == "+":
        node.append(bad)
    elif last == "*":
        if field.get("key"):
            node[bad] = field.get("value", "on")
        else:
            node[f"GROUNDWORK_{_word(rng).upper()}"] = bad
    elif field.get("merge") and isinstance(bad, dict):
        node[last] = {**(node.get(last) or {}), **bad}
    else:
        node[last] = bad
    return values


def field_name(path):
    """What the refusal must name: the variable and the last named key on the path."""
    names = [step for step in path if isinstance(step, str) and step not in ("+", "*")]
    return [names[0]] if len(names) == 1 else [names[0], names[-1]]


def _view(field, values):
    """The host's values, with the field's variable taken from ``source`` when the host does
    not set it (Apache's sites default to nginx_sites)."""
    var, source = field["path"][0], field.get("source")
    if var not in values and source in values:
        return {**values, var: values[source]}
    return values


def _hosts_for(field, inventory):
    """The hosts the field can be made bad on: the one named, or every host whose values
    reach the field's parent."""
    selector = field["hosts"]
    names = [selector[5:]] if selector.startswith("host:") else sorted(inventory)
    return [
        host
        for host in names
        if host in inventory and _reachable(_view(field, inventory[host]["vars"]), field["path"])
    ]


def generate(inventory, seed):
    """The cases, and the fields that could not be placed (no host has their variable)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    cases, skipped = [], []
    for field in FIELDS:
        hosts = _hosts_for(field, inventory)
        if not hosts:
            skipped.append(".".join(str(s) for s in field["path"]))
            continue
        for klass in field["classes"]:
            host = rng.choice(hosts)
            values = _view(field, inventory[host]["vars"])
            valid = _valid_at(values, field["path"])
            if valid is None:
                valid = field.get("fresh", _word(rng))
            bad = CLASSES[klass](rng, valid, field)
            var = field["path"][0]
            current = {var: values.get(var)}
            override = _set(current, field["path"], bad, rng, field)
            cases.append(
                {
                    "id": len(cases) + 1,
                    "role": field["role"],
                    "host": host,
                    "class": klass,
                    "field": ".".join(str(s) for s in field["path"]),
                    "names": field_name(field["path"]),
                    "secret": bool(field.get("secret")),
                    "bad": bad,
                    "vars": override,
                }
            )
    return cases, skipped


def select(cases, count, seed):
    """``count`` of the cases, drawn: one case (of a drawn class) of every field, then one of
    every class of every role not yet in, then the others in a drawn order; in the order of
    their numbers."""
    rng = random.Random(seed + 1)  # noqa: S311 - reproducible test data, not secrets
    order = cases[:]
    rng.shuffle(order)
    chosen, fields, kinds = [], set(), set()
    for case in order:
        if case["field"] not in fields:
            chosen.append(case)
            fields.add(case["field"])
            kinds.add((case["role"], case["class"]))
    for case in order:
        if (case["role"], case["class"]) not in kinds:
            chosen.append(case)
            kinds.add((case["role"], case["class"]))
    chosen += [case for case in order if case not in chosen]
    return sorted(chosen[:count], key=lambda case: case["id"])


# ---------------------------------------------------------------------------------------
# The tasks file: every string value tagged !unsafe (bad values may hold braces), JSON
# escapes for control characters (valid YAML double-quoted scalars).


def _yaml(value):
    if isinstance(value, str):
        return "!unsafe " + json.dumps(value)
    if isinstance(value, bool) or value is None or isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {_yaml(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__}")


def shown(case):
    """How a case's bad value is shown: a secret by its class only."""
    return "(secret with a control character)" if case["secret"] else json.dumps(case["bad"])


# What the tasks file tells about a case (the override itself only goes to include_role).
CASE_KEYS = ("id", "role", "host", "field", "class", "names", "secret")


def tasks(cases):
    lines = ["---", "# Generated by molecule/baseline/badinputs/generate.py: one block per case."]
    for case in cases:
        label = f"{case['id']:03d} {case['role']} {case['field']} [{case['class']}]"
        lines += [
            f"- name: {json.dumps('Case ' + label)}",
            f"  when: inventory_hostname == {json.dumps(case['host'])}",
            "  vars:",
            f"    __bl_case: {_yaml({key: case[key] for key in CASE_KEYS})}",
            f"    __bl_case_shown: {_yaml(shown(case))}",
            f"    __bl_case_bad: {_yaml(case['bad'] if case['secret'] else '')}",
            "  block:",
            "    - name: Apply the role with the bad value",
            "      ansible.builtin.include_role:",
            f"        name: groundwork.server.{case['role']}",
            "      vars:",
        ]
        for var, value in case["vars"].items():
            lines.append(f"        {var}: {_yaml(value)}")
        lines += [
            "    - name: Record that the role accepted the bad value",
            "      ansible.builtin.set_fact:",
            "        __bl_accepted: >-",
            "          {{ __bl_accepted + [__bl_case | combine({'value': __bl_case_shown})] }}",
            "  rescue:",
            "    - name: Check the refusal",
            '      ansible.builtin.include_tasks: "{{ __bl_here }}/refused.yml"',
            "  always:",
            "    - name: Compare the host with its state before the first case",
            '      ansible.builtin.include_tasks: "{{ __bl_here }}/compare.yml"',
        ]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=int(os.environ.get("GW_BADINPUTS_SEED", "16")))
    parser.add_argument("--count", type=int, default=int(os.environ.get("GW_BADINPUTS_COUNT", "130")))
    parser.add_argument(
        "--only", default=os.environ.get("GW_BADINPUTS_ONLY", ""), help="roles or case ids, by commas"
    )
    args = parser.parse_args(argv)
    with open(args.values, encoding="utf-8") as handle:
        inventory = json.load(handle)
    cases, skipped = generate(inventory, args.seed)
    if args.only:
        only = args.only.split(",")
        cases = [case for case in cases if case["role"] in only or str(case["id"]) in only]
    else:
        cases = select(cases, args.count, args.seed)
    os.makedirs(args.out, exist_ok=True)
    # The overrides hold the other items' passwords: readable by the controller's user only.
    os.umask(0o077)
    with open(os.path.join(args.out, "cases.yml"), "w", encoding="utf-8") as handle:
        handle.write(tasks(cases))
    with open(os.path.join(args.out, "cases.json"), "w", encoding="utf-8") as handle:
        json.dump(cases, handle, indent=1)
    roles = Counter(case["role"] for case in cases)
    classes = Counter(case["class"] for case in cases)
    summary = {
        "seed": args.seed,
        "cases": len(cases),
        "per_role": {role: roles[role] for role in ROLES},
        "per_class": dict(sorted(classes.items())),
        "fields": len({case["field"] for case in cases}),
        "fields_without_host": skipped,
    }
    json.dump(summary, sys.stdout)
    # The whole set must reach 100 cases over every role (issue 16); a subset asked for is not.
    if args.only or args.count < 100:
        return 0
    return 0 if len(cases) >= 100 and all(roles[role] for role in ROLES) else 1


if __name__ == "__main__":
    sys.exit(main())
