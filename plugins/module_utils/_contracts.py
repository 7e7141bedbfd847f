# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the roles of groundwork.server agree on, in one place.

Roles never import each other's models; they depend on this module only:

- the certificate layout of groundwork.server.tls and how a consumer registers the hook
  that reloads it after a renewal;
- the catalogue of services: which ports and protocols a service uses and which roles
  serve it (read by the firewall, the database access rules and the architecture picture);
- the tiers, the inventory variables that name their groups, and the variables that
  choose the server role of a tier (``groundwork_web_server``, ``groundwork_database``).

Plain data and small pure functions: usable on the controller and, being in module_utils,
by modules on the host.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.module_utils import _contracts as contracts
"""

from __future__ import annotations

import posixpath

COLLECTION = "groundwork.server"

# --- Certificates (groundwork.server.tls) ----------------------------------------------
# Every certificate lives in <CERTIFICATE_DIR>/<name>/ as cert.pem, chain.pem, fullchain.pem
# and privkey.pem; the key is readable by the group TLS_GROUP. After a certificate's files
# change, every executable <HOOK_DIR>/<name>.d/<consumer> runs (a validated reload).
CERTIFICATE_DIR = "/etc/ssl/groundwork"
HOOK_DIR = "/etc/groundwork/tls/hooks"
TLS_GROUP = "groundwork-tls"
CERTIFICATE_FILES = ("cert.pem", "chain.pem", "fullchain.pem", "privkey.pem")
# Written by the tls role while an ACME certificate waits for its first real issue.
PLACEHOLDER = ".placeholder"
RENEW_SERVICE = "groundwork-tls-renew.service"
ACME_SPECS_DIR = "/etc/groundwork/tls/certificates"


def certificate_dir(name):
    return posixpath.join(CERTIFICATE_DIR, name)


def certificate_file(name, which):
    """The path of one file of a certificate: which is cert, chain, fullchain or privkey."""
    return posixpath.join(CERTIFICATE_DIR, name, f"{which}.pem")


def hook_path(name, consumer):
    """Where the consumer ``consumer`` registers its renewal hook for certificate ``name``."""
    return posixpath.join(HOOK_DIR, f"{name}.d", consumer)


def is_hook_of(path, consumer):
    """Whether ``path`` is a renewal hook that ``consumer`` registered (for any certificate)."""
    directory, base = posixpath.split(path)
    return (
        base == consumer
        and posixpath.dirname(directory) == HOOK_DIR
        and posixpath.basename(directory).endswith(".d")
    )


def stale_hooks(registered, consumer, names):
    """The hooks ``consumer`` registered earlier for certificates it no longer uses."""
    wanted = {hook_path(name, consumer) for name in names}
    return sorted(path for path in registered if is_hook_of(path, consumer) and path not in wanted)


# --- Services ---------------------------------------------------------------------------
# name -> ports [(proto, port)] and the roles that serve it. A port None for "ssh" means the
# host's SSH port (firewall_ssh_port; 22 in the picture).
CATALOGUE = {
    "ssh": {"ports": [("tcp", None)], "roles": ("base",)},
    "http": {"ports": [("tcp", 80)], "roles": ("nginx", "apache")},
    "https": {"ports": [("tcp", 443)], "roles": ("nginx", "apache")},
    "http3": {"ports": [("udp", 443)], "roles": ()},
    "dns": {"ports": [("tcp", 53), ("udp", 53)], "roles": ("dns",)},
    "ntp": {"ports": [("udp", 123)], "roles": ()},
    "smtp": {"ports": [("tcp", 25)], "roles": ()},
    "smtps": {"ports": [("tcp", 465)], "roles": ()},
    "submission": {"ports": [("tcp", 587)], "roles": ()},
    "imaps": {"ports": [("tcp", 993)], "roles": ()},
    "pop3s": {"ports": [("tcp", 995)], "roles": ()},
    "postgresql": {"ports": [("tcp", 5432)], "roles": ("postgresql",)},
    "mysql": {"ports": [("tcp", 3306)], "roles": ("mariadb",)},
    "mariadb": {"ports": [("tcp", 3306)], "roles": ("mariadb",)},
    "redis": {"ports": [("tcp", 6379)], "roles": ()},
    "node-exporter": {"ports": [("tcp", 9100)], "roles": ()},
    "wireguard": {"ports": [("udp", 51820)], "roles": ()},
    "app": {"ports": [("tcp", 8000)], "roles": ("app",)},
}
# The flow services by name: name -> [(proto, port)] (what a flow's "service" key may name).
SERVICES = {name: list(entry["ports"]) for name, entry in CATALOGUE.items() if name != "app"}
# The systemd units of the servers the roles run, as the architecture picture finds them.
UNITS = ("nginx", "apache2", "postgresql@*", "mariadb", "mysql", "named", "unbound", "ssh")


def service_ports(name, ssh_port=22):
    """[(proto, port)] of a catalogue service; KeyError for an unknown one."""
    return [(proto, port if port is not None else ssh_port) for proto, port in CATALOGUE[name]["ports"]]


# --- Tiers and the servers that serve them ----------------------------------------------
# Each tier: its default group, the variable that renames the group, and for the tiers with
# a choice of server, the variable that chooses and the roles it may name. A role name
# mapped to None is planned but not part of the collection yet: choosing it fails before
# any change.
TIERS = (
    {
        "tier": "loadbalancers",
        "group": "loadbalancers",
        "group_var": "groundwork_loadbalancers",
        "label": "Load balancers",
        "choice_var": "groundwork_web_server",
        "default": "nginx",
        "roles": {"nginx": "groundwork.server.nginx", "apache": "groundwork.server.apache"},
    },
    {
        "tier": "appservers",
        "group": "appservers",
        "group_var": "groundwork_appservers",
        "label": "Application servers",
        "choice_var": None,
        "default": "app",
        "roles": {"app": "groundwork.server.app"},
    },
    {
        "tier": "dbservers",
        "group": "dbservers",
        "group_var": "groundwork_dbservers",
        "label": "Database servers",
        "choice_var": "groundwork_database",
        "default": "postgresql",
        "roles": {"postgresql": "groundwork.server.postgresql", "mariadb": "groundwork.server.mariadb"},
    },
)
TIER_BY_NAME = {tier["tier"]: tier for tier in TIERS}
# The inventory group a role's "plan" entry point puts a host into when the role changes it.
CHANGES_GROUPS = {
    "nginx": "groundwork_nginx_changes",
    "apache": "groundwork_apache_changes",
    "postgresql": "groundwork_postgresql_changes",
    "mariadb": "groundwork_mariadb_changes",
    "app": "groundwork_app_deploy",
}


def tier_changes_group(tier):
    """The group of a tier's servers that a run changes, whichever role serves them."""
    return f"groundwork_{tier}_changes"


def choose_server(tier, value):
    """(role name, None) for the server a tier's choice variable names, or (None, problem)."""
    entry = TIER_BY_NAME[tier]
    name = entry["default"] if value in (None, "") else value
    roles = entry["roles"]
    allowed = " or ".join(repr(key) for key in roles)
    var = entry["choice_var"] or entry["tier"]
    if not isinstance(name, str) or name not in roles:
        return None, f"{var}: {name!r} is not a server for the {tier} tier (allowed: {allowed})."
    if roles[name] is None:
        ready = " or ".join(repr(key) for key, fqcn in roles.items() if fqcn)
        return None, (
            f"{var}: {name!r} is planned but not part of {COLLECTION} yet; "
            f"the {tier} tier can use {ready} today."
        )
    return name, None
