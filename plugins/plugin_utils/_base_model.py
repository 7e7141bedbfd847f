# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The validator of groundwork.server.base (called by plugin_utils/_base_role.py): the input
checked and normalised before any host is contacted. Every message
names the variable, the item and the value, and never shows a whole SSH key.

Every value that reaches a file or a command is checked against the syntax of where it
goes: no control character anywhere (plugin_utils/_model_check.py CONTROL), whole-string
matches (a trailing line break never slips through a ``$``), no quote or backslash in the
quoted strings of apt's configuration, no ``:`` in a GECOS comment, kernel parameter names
that stay under /proc/sys, NTP servers without an IPv6 zone (which would carry spaces into
chrony.conf), and no admin user that is a system account the role does not own.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils._base_model import base_model
"""

from __future__ import annotations

import collections
import json
import math
import posixpath
import re

from ansible_collections.groundwork.server.plugins.plugin_utils._model_check import (
    CONTROL,
    PACKAGE,
    PACKAGE_WHAT,
)
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
USER_STATES = ("present", "absent")
# Accounts of Debian's base-passwd and of the services this collection installs: an admin
# user of one of these names would take over (or, marked absent, delete) an account the role
# does not own.
SYSTEM_USERS = frozenset(
    {
        *("root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp", "proxy"),
        *("www-data", "backup", "list", "irc", "gnats", "nobody", "_apt", "messagebus", "sshd"),
        *("_chrony", "polkitd", "postgres", "mysql", "nginx", "nftables"),
    }
)
LOCALE = re.compile(r"C|POSIX|C\.(UTF-8|utf8)|[a-z]{2,3}(_[A-Z]{2})?(\.[A-Za-z0-9-]+)?(@[a-z]+)?")
NUMBERS = (
    ("base_sshd_port", 1, 65535),
    ("base_sshd_client_alive_interval", 0, 86400),
    ("base_sshd_client_alive_count_max", 1, 100),
    ("base_sshd_login_grace_time", 0, 3600),
    ("base_sshd_max_auth_tries", 1, 100),
    ("base_apt_cache_valid_time", 0, 31536000),
)
SIZE = re.compile(r"(?=[0-9.]*[1-9])[0-9]+(\.[0-9]+)?[KMGT]?")
STRINGS = (
    ("base_journald_system_max_use", SIZE, "a size above zero such as '500M' or '2G'"),
    (
        "base_unattended_upgrades_reboot_time",
        re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]"),
        "a time of day 'HH:MM'",
    ),
)
ALGORITHM = re.compile(r"[A-Za-z0-9@._+-]+")
# In 52groundwork-unattended-upgrades each entry stands in double quotes: a quote would end
# it, apt reads no escapes, and a line break would end the line.
QUOTED = re.compile(r'[^"\\\x00-\x1f\x7f-\x9f\u2028\u2029]+')
QUOTED_WHAT = "without double quotes, backslashes or control characters"
# A kernel parameter: dot-separated names (the classic form), or slash-separated names where
# a name holds a dot (net/ipv4/conf/eth0.100/rp_filter); never '.', '..' or an empty name,
# so the key stays a file under /proc/sys. A leading '-' skips a key the kernel lacks; '*'
# is a glob of systemd-sysctl.
SYSCTL_KEY = re.compile(
    r"-?[a-z0-9_*]+(?:\.[A-Za-z0-9_*@:+-]+)+"
    r"|-?[a-z0-9_*]+(?:/(?!\.\.?(?:/|$))[A-Za-z0-9_*@:+.-]+)+"
)
LISTS = (
    ("base_packages", PACKAGE, PACKAGE_WHAT),
    ("base_sshd_kex_algorithms", ALGORITHM, "an OpenSSH algorithm name as printed by 'ssh -Q kex'"),
    ("base_sshd_ciphers", ALGORITHM, "an OpenSSH algorithm name as printed by 'ssh -Q cipher'"),
    ("base_sshd_macs", ALGORITHM, "an OpenSSH algorithm name as printed by 'ssh -Q mac'"),
    ("base_sshd_host_key_algorithms", ALGORITHM, "an OpenSSH algorithm name as printed by 'ssh -Q key-sig'"),
    (
        "base_unattended_upgrades_origins",
        QUOTED,
        "an origin pattern such as 'origin=Debian,codename=${distro_codename}-updates', " + QUOTED_WHAT,
    ),
    (
        "base_unattended_upgrades_blocklist",
        QUOTED,
        "a regular expression of package names, " + QUOTED_WHAT,
    ),
)
SYSCTL_KEY_WHAT = (
    "a kernel parameter name such as 'vm.swappiness' or 'net/ipv4/conf/eth0.100/rp_filter',"
    " without '..' or empty names"
)
# A login shell: an absolute, normalised path of plain characters.
SHELL = re.compile(r"/[A-Za-z0-9_./-]+")
NTP_SERVER = re.compile(r"[A-Za-z0-9.:-]+")
KEY_TYPES = (
    "ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa of at least 2048 bits, sk-ssh-ed25519@openssh.com,"
    " sk-ecdsa-sha2-nistp256@openssh.com or their -cert-v01@openssh.com forms"
)


def _json(value):
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _number_ok(value, low, high):
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return low <= value <= high
    return (
        isinstance(value, str)
        and re.fullmatch(r"[0-9]{1,12}", value) is not None
        and low <= int(value) <= high
    )


def _list(problems, var, value, what):
    """``value`` when it is a list; else a problem and an empty list."""
    if isinstance(value, list):
        return value
    problems.append(f"{var}: {_json(value)} is not valid (expected a list of {what}).")
    return []


def _shown_key(key):
    text = str(key)
    if "PRIVATE KEY" in text:
        return "(a private key, not shown)"
    # Jinja's truncate(40, true, '...') with its leeway of 5
    return _json(text if len(text) <= 45 else text[:37] + "...")


def _user(problems, where, user):
    name = user.get("name")
    if not posix_username(name) or name in SYSTEM_USERS or name.startswith("systemd-"):
        problems.append(
            f"{where}.name: {_json(name)} is not a valid admin user name (expected 1 to 32 characters of"
            " a-z, 0-9, '_' and '-', starting with a letter or '_'; not 'root' nor another system account"
            " such as 'daemon', 'www-data' or 'postgres')."
        )
    unknown = sorted(str(key) for key in user if key != "name" and key not in USER_DEFAULTS)
    if unknown:
        problems.append(
            f"{where}: unknown key(s) {', '.join(unknown)} (allowed: name, {', '.join(USER_DEFAULTS)})."
        )
    if user["state"] not in USER_STATES:
        problems.append(f"{where}.state: {_json(user['state'])} is not one of present, absent.")
    keys = _list(problems, f"{where}.ssh_keys", user["ssh_keys"], "OpenSSH public keys")
    for key_index, key in enumerate(keys):
        if not ssh_public_key(key) or CONTROL.search(key):
            problems.append(
                f"{where}.ssh_keys[{key_index}]: {_shown_key(key)} is not a valid OpenSSH public key"
                f" (expected '<type> <base64> [comment]' on one line, without control characters, with"
                f" type one of {KEY_TYPES})."
            )
    shell = user["shell"]
    if (
        not isinstance(shell, str)
        or not SHELL.fullmatch(shell)
        or posixpath.normpath(shell) != shell
        or shell.startswith("//")
    ):
        problems.append(
            f"{where}.shell: {_json(shell)} is not an absolute path (expected a normalised path such as"
            " '/bin/bash', without '..')."
        )
    comment = user["comment"]
    if not isinstance(comment, str) or ":" in comment or CONTROL.search(comment):
        problems.append(
            f"{where}.comment: {_json(comment)} must be a string and must not contain ':' or line breaks"
            " (or other control characters)."
        )
    for option in ("sudo", "sudo_nopasswd", "remove_home"):
        if not isinstance(user[option], bool):
            problems.append(f"{where}.{option}: {_json(user[option])} must be true or false.")
    groups = _list(problems, f"{where}.groups", user["groups"], "group names")
    for group_index, group in enumerate(groups):
        if not posix_username(group):
            problems.append(
                f"{where}.groups[{group_index}]: {_json(group)} is not a valid group name (expected 1 to 32"
                " characters of a-z, 0-9, '_' and '-', starting with a letter or '_')."
            )


def _users(problems, admin_users):
    users = []
    for index, user in enumerate(_list(problems, "base_admin_users", admin_users, "mappings (users)")):
        where = f"base_admin_users[{index}]"
        if not isinstance(user, dict):
            problems.append(f"{where}: {_json(user)} is not valid (expected a mapping with at least a name).")
            continue
        user = {**USER_DEFAULTS, **user}
        _user(problems, where, user)
        users.append(user)
    names = [user.get("name") for user in users if isinstance(user.get("name"), str)]
    repeated = [name for name, count in collections.Counter(names).items() if count > 1]
    if repeated:
        problems.append(
            f"base_admin_users: user names must be unique, but {_json(repeated)} appear more than once."
        )
    return users


def _sysctl(problems, extra):
    if not isinstance(extra, dict):
        problems.append(
            f"base_sysctl_extra: {_json(extra)} is not valid"
            " (expected a mapping of kernel parameter to value)."
        )
        return
    for key, value in extra.items():
        if not isinstance(key, str) or not SYSCTL_KEY.fullmatch(key):
            problems.append(f"base_sysctl_extra: {_json(key)} is not valid (expected {SYSCTL_KEY_WHAT}).")
        number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        text = isinstance(value, str) and value.strip() != "" and not CONTROL.search(value)
        if not (number or text):
            problems.append(
                f"base_sysctl_extra[{_json(key)}]: {_json(value)} is not valid (expected a number or a string"
                " without line breaks or other control characters)."
            )


def _lists(problems, options):
    for var, pattern, expected in LISTS:
        for index, value in enumerate(_list(problems, var, options[var], "strings")):
            if not isinstance(value, str) or not pattern.fullmatch(value):
                problems.append(f"{var}[{index}]: {_json(value)} is not valid (expected {expected}).")
            elif var == "base_unattended_upgrades_blocklist":
                try:
                    re.compile(value)
                except re.error as exc:
                    problems.append(
                        f"{var}[{index}]: {_json(value)} is not a valid regular expression ({exc})."
                    )


def _ntp(problems, options):
    timesync = options["base_timesync"]
    if timesync not in ("chrony", "timesyncd", "none"):
        problems.append(f"base_timesync: {_json(timesync)} is not one of chrony, timesyncd, none.")
    servers = _list(problems, "base_ntp_servers", options["base_ntp_servers"], "host names or IP addresses")
    if timesync != "none" and not servers:
        problems.append(
            f"base_ntp_servers: [] is empty, but base_timesync is {_json(timesync)}"
            " (list at least one server, or set base_timesync to 'none')."
        )
    for index, server in enumerate(servers):
        if not hostname(server, allow_ip=True) or not NTP_SERVER.fullmatch(server):
            problems.append(
                f"base_ntp_servers[{index}]: {_json(server)} is not a host name or IP address"
                " (expected a name such as 'ntp.example.org' or an address without a zone)."
            )


def base_model(options):
    """The checked input: ``errors`` (one message per problem) and the admin users with defaults."""
    problems = []
    users = _users(problems, options["base_admin_users"])
    present = [user for user in users if user["state"] == "present"]
    if options["base_lockout_protection"] and not [u for u in present if u["sudo"] is True and u["ssh_keys"]]:
        problems.append(
            f"base_admin_users: {_json([u.get('name') for u in users])} has no present"
            " user with ssh_keys and sudo. The role turns off root login and passwords, so nobody could"
            " administer this host. Add such a user, or set base_lockout_protection to false if access is"
            " managed elsewhere."
        )
    if not iana_timezone(options["base_timezone"]) or CONTROL.search(options["base_timezone"]):
        problems.append(
            f"base_timezone: {_json(options['base_timezone'])} is not a time zone of the IANA database"
            " (expected a name such as 'Etc/UTC' or 'Europe/Berlin')."
        )
    name = options["base_hostname"]
    if name not in ("", None) and not hostname(name):
        problems.append(
            f"base_hostname: {_json(name)} is not a valid host name (RFC 1123: dot-separated labels of"
            " letters, digits and '-'; empty leaves the host name alone)."
        )
    locale = options["base_locale"]
    if not isinstance(locale, str) or not LOCALE.fullmatch(locale):
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
        if not isinstance(value, str) or not pattern.fullmatch(value):
            problems.append(f"{var}: {_json(value)} is not valid (expected {expected}).")
    _lists(problems, options)
    _sysctl(problems, options["base_sysctl_extra"])
    _ntp(problems, options)
    return {
        "errors": problems,
        "users": users,
        "users_present": present,
        "users_absent": [user for user in users if user["state"] == "absent"],
    }
