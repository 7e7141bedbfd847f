# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The validator of groundwork.server.base (called by plugin_utils/_base_role.py): the input
checked and normalised before any host is contacted. Every message
names the variable, the item and the value, and never shows a whole SSH key.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils._base_model import base_model
"""

from __future__ import annotations

import collections
import json
import re

from ansible_collections.groundwork.server.plugins.test.hostname import hostname
from ansible_collections.groundwork.server.plugins.test.iana_timezone import iana_timezone
from ansible_collections.groundwork.server.plugins.test.posix_username import posix_username
from ansible_collections.groundwork.server.plugins.test.ssh_public_key import ssh_public_key

USER_DEFAULTS = {
    "state": "present",
    "ssh_keys": [],
    "sudo": True,
    "sudo_nopasswd": True,
    "shell": "/bin/bash",
    "comment": "",
    "groups": [],
    "remove_home": True,
}
LOCALE = re.compile(r"^(C|POSIX|C\.(UTF-8|utf8)|[a-z]{2,3}(_[A-Z]{2})?(\.[A-Za-z0-9-]+)?(@[a-z]+)?)$")
NUMBERS = (
    ("base_sshd_port", 1, 65535),
    ("base_sshd_client_alive_interval", 0, 86400),
    ("base_sshd_client_alive_count_max", 1, 100),
    ("base_sshd_login_grace_time", 0, 3600),
    ("base_sshd_max_auth_tries", 1, 100),
    ("base_apt_cache_valid_time", 0, 31536000),
)
STRINGS = (
    ("base_journald_system_max_use", r"^[0-9]+(\.[0-9]+)?[KMGT]?$", "a size such as '500M' or '2G'"),
    ("base_unattended_upgrades_reboot_time", r"^([01][0-9]|2[0-3]):[0-5][0-9]$", "a time of day 'HH:MM'"),
)
ALGORITHM = r"^[A-Za-z0-9@._+-]+$"
LISTS = (
    (
        "base_packages",
        r"^[a-z0-9][a-z0-9+.-]+(:[a-z0-9]+)?(=[A-Za-z0-9.+:~-]+)?$",
        "a Debian package name, optionally with ':arch' and '=version'",
    ),
    ("base_sshd_kex_algorithms", ALGORITHM, "an OpenSSH algorithm name as printed by 'ssh -Q kex'"),
    ("base_sshd_ciphers", ALGORITHM, "an OpenSSH algorithm name as printed by 'ssh -Q cipher'"),
    ("base_sshd_macs", ALGORITHM, "an OpenSSH algorithm name as printed by 'ssh -Q mac'"),
    ("base_sshd_host_key_algorithms", ALGORITHM, "an OpenSSH algorithm name as printed by 'ssh -Q key-sig'"),
    (
        "base_unattended_upgrades_origins",
        r'^[^"\\\n]+$',
        "an origin pattern such as 'origin=Debian,codename=${distro_codename}-updates', without quotes",
    ),
    (
        "base_unattended_upgrades_blocklist",
        r'^[^"\\\n]+$',
        "a regular expression of package names, without double quotes or backslashes",
    ),
    (
        "base_sysctl_extra",
        r"^-?[a-z0-9_]+(\.[A-Za-z0-9_*@:/+-]+)+$",
        "a kernel parameter name such as 'vm.swappiness'",
    ),
)
KEY_TYPES = (
    "ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa of at least 2048 bits, sk-ssh-ed25519@openssh.com,"
    " sk-ecdsa-sha2-nistp256@openssh.com or their -cert-v01@openssh.com forms"
)


def _json(value):
    return json.dumps(value)


def _number_ok(value, low, high):
    if isinstance(value, bool):
        return False
    text = str(value)
    return re.match(r"^[0-9]+$", text) is not None and low <= int(text) <= high


def _users(problems, admin_users):
    users = [{**USER_DEFAULTS, **user} for user in admin_users]
    for index, user in enumerate(users):
        where = f"base_admin_users[{index}]"
        name = user.get("name")
        if not posix_username(name) or name == "root":
            problems.append(
                f"{where}.name: {_json(name)} is not a valid admin user name (expected 1 to 32 characters of"
                " a-z, 0-9, '_' and '-', starting with a letter or '_'; not 'root')."
            )
        for key_index, key in enumerate(user["ssh_keys"]):
            if not ssh_public_key(key):
                text = str(key)
                shown = (
                    "(a private key, not shown)"
                    if "PRIVATE KEY" in text
                    # Jinja's truncate(40, true, '...') with its leeway of 5
                    else _json(text if len(text) <= 45 else text[:37] + "...")
                )
                problems.append(
                    f"{where}.ssh_keys[{key_index}]: {shown} is not a valid OpenSSH public key"
                    f" (expected '<type> <base64> [comment]' with type one of {KEY_TYPES})."
                )
        if not isinstance(user["shell"], str) or not re.match(r"^/[A-Za-z0-9_./-]+$", user["shell"]):
            problems.append(f"{where}.shell: {_json(user['shell'])} is not an absolute path.")
        if isinstance(user["comment"], str) and re.search(r"[:\n]", user["comment"]):
            problems.append(f"{where}.comment: {_json(user['comment'])} must not contain ':' or line breaks.")
        for option in ("sudo", "sudo_nopasswd", "remove_home"):
            if not isinstance(user[option], bool):
                problems.append(f"{where}.{option}: {_json(user[option])} must be true or false.")
        for group_index, group in enumerate(user["groups"]):
            if not posix_username(group):
                problems.append(f"{where}.groups[{group_index}]: {_json(group)} is not a valid group name.")
    names = [user.get("name") for user in users]
    repeated = [name for name, count in collections.Counter(names).items() if count > 1]
    if repeated:
        problems.append(
            f"base_admin_users: user names must be unique, but {_json(repeated)} appear more than once."
        )
    return users


def base_model(options):
    """The checked input: ``errors`` (one message per problem) and the admin users with defaults."""
    problems = []
    users = _users(problems, options["base_admin_users"])
    present = [user for user in users if user["state"] == "present"]
    if options["base_lockout_protection"] and not [u for u in present if u["sudo"] and u["ssh_keys"]]:
        problems.append(
            f"base_admin_users: {_json([u.get('name') for u in options['base_admin_users']])} has no present"
            " user with ssh_keys and sudo. The role turns off root login and passwords, so nobody could"
            " administer this host. Add such a user, or set base_lockout_protection to false if access is"
            " managed elsewhere."
        )
    if not iana_timezone(options["base_timezone"]):
        problems.append(
            f"base_timezone: {_json(options['base_timezone'])} is not a time zone of the IANA database"
            " (expected a name such as 'Etc/UTC' or 'Europe/Berlin')."
        )
    name = options["base_hostname"]
    if name and not hostname(name):
        problems.append(
            f"base_hostname: {_json(name)} is not a valid host name (RFC 1123: dot-separated labels of"
            " letters, digits and '-')."
        )
    locale = options["base_locale"]
    if not isinstance(locale, str) or not LOCALE.match(locale):
        problems.append(
            f"base_locale: {_json(locale)} is not a locale name (expected e.g. 'C.UTF-8' or 'en_US.UTF-8')."
        )
    for var, low, high in NUMBERS:
        if not _number_ok(options[var], low, high):
            problems.append(
                f"{var}: {_json(options[var])} is not valid (expected a whole number from {low} to {high})."
            )
    for var, pattern, expected in STRINGS:
        value = options[var]
        if not isinstance(value, str) or not re.match(pattern, value):
            problems.append(f"{var}: {_json(value)} is not valid (expected {expected}).")
    for var, pattern, expected in LISTS:
        values = options[var]
        indexed = not isinstance(values, dict)
        for index, value in enumerate(values):
            if not isinstance(value, str) or not re.match(pattern, value):
                where = f"{var}[{index}]" if indexed else var
                problems.append(f"{where}: {_json(value)} is not valid (expected {expected}).")
    for key, value in options["base_sysctl_extra"].items():
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        text = isinstance(value, str) and value != "" and not re.search(r"[\r\n]", value)
        if not (number or text):
            problems.append(
                f"base_sysctl_extra[{_json(key)}]: {_json(value)} is not valid (expected a number or a string"
                " without line breaks)."
            )
    servers = options["base_ntp_servers"]
    if options["base_timesync"] != "none" and not servers:
        problems.append(
            f"base_ntp_servers: [] is empty, but base_timesync is {_json(options['base_timesync'])}"
            " (list at least one server, or set base_timesync to 'none')."
        )
    for index, server in enumerate(servers):
        if not hostname(server, allow_ip=True):
            problems.append(f"base_ntp_servers[{index}]: {_json(server)} is not a host name or IP address.")
    return {
        "errors": problems,
        "users": users,
        "users_present": present,
        "users_absent": [user for user in users if user["state"] == "absent"],
    }
