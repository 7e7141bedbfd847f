# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The engine-neutral parts of the database contract (docs/ARCHITECTURE.md, "The database
contract"), validated once for every database role:

- who may connect: the flows to the database host's port (plugin_utils/_flows.py), the
  extra client networks, and whether any source is allowed at all;
- backups: directory, retention, schedule and the databases dumped;
- the items every engine declares the same way: their keys, ``state``, passwords (vaulted
  when required);
- ``resolve``: the two passes of a model whose clients' addresses may have to be read first;
- the host's side every engine has: the backup service and timer, the certificate's renewal
  hook, the server user's membership of the key group, the backup directory
  (``backup_units``, ``renewal_hook``, ``host_changes``).

A database role calls these with its variable prefix (``postgresql``, ``mariadb``) and its
engine's name for messages; the engine-specific parts (its users' and privileges' syntax,
its settings) stay in the role's own model.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils import _database_contract
"""

from __future__ import annotations

import ipaddress
import json
import os
import re

from ansible_collections.groundwork.server.plugins.module_utils import _contracts as contracts
from ansible_collections.groundwork.server.plugins.plugin_utils import _flows
from ansible_collections.groundwork.server.plugins.plugin_utils._model_check import (
    CONTROL,
    PACKAGE,
    PACKAGE_WHAT,
    Checker,
    quote,
)
from ansible_collections.groundwork.server.plugins.plugin_utils._plan import (
    Change,
    file_changes,
    missing_packages,
    package_changes,
    unit_changes,
)

BACKUP_DIR = re.compile(r"/[A-Za-z0-9_./-]+")
SCHEDULE = re.compile(r"[A-Za-z0-9*:,./ ~_+-]+")
ANY = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))
STATES = ("present", "absent")
# Where a backup directory may be: the role makes it its server's own (owner, mode), so it
# must be a directory of its own under a place meant for data, never a system directory.
BACKUP_ROOTS = ("/var/backups", "/srv", "/mnt", "/media", "/backup", "/backups", "/data")
# A certificate's name in groundwork.server.tls (plugin_utils/_tls_model.py's NAME).
CERTIFICATE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
MAX_KEEP = 1000
# systemd.time(7): the shorthands, and the parts of "[weekdays] [date] [time] [time zone]".
CALENDAR_WORDS = (
    "minutely",
    "hourly",
    "daily",
    "monthly",
    "weekly",
    "yearly",
    "annually",
    "quarterly",
    "semiannually",
)
WEEKDAY = r"(?:mon|tue|wed|thu|fri|sat|sun)(?:day|sday|nesday|rsday|urday)?"
WEEKDAYS = re.compile(rf"{WEEKDAY}(?:\.\.{WEEKDAY})?(?:,{WEEKDAY}(?:\.\.{WEEKDAY})?)*", re.IGNORECASE)
_VALUE = r"(?:\*|[0-9]+(?:\.\.[0-9]+)?)(?:/[0-9]+)?"
_LIST = rf"{_VALUE}(?:,{_VALUE})*"
CALENDAR_DATE = re.compile(rf"(?:{_LIST}-)?{_LIST}(?:-|~){_LIST}")
CALENDAR_TIME = re.compile(rf"{_LIST}:{_LIST}(?::(?:\*|[0-9]+(?:\.[0-9]+)?(?:\.\.[0-9]+)?)(?:/[0-9]+)?)?")
TIME_ZONE = re.compile(r"UTC|[A-Z][A-Za-z_+-]*(?:/[A-Za-z_+-][A-Za-z0-9_+-]*){1,2}")


def is_any(network):
    return network.prefixlen == 0


def scoped(network):
    """Whether ``network`` carries an IPv6 zone (``fe80::1%eth0``), which no access file takes."""
    return getattr(network.network_address, "scope_id", None) is not None


def client_networks(check, prefix, networks, allow_any):
    """The extra networks of ``<prefix>_client_networks``; every address only with
    ``<prefix>_allow_any_source``."""
    var = f"{prefix}_client_networks"
    result = []
    if not isinstance(networks, list):
        check.line(var, "must be a list of networks")
        return result
    for index, item in enumerate(networks):
        network, problem = _flows.parse_network(item)
        if isinstance(item, str) and (item != item.strip() or "%" in item or CONTROL.search(item)):
            network, problem = (
                None,
                "is not an IP address or network (without a zone, spaces or control characters)",
            )
        if network is None:
            check.add(f"{var}[{index}]", None, item, problem)
        elif is_any(network) and not allow_any:
            check.add(
                f"{var}[{index}]",
                None,
                item,
                f"allows every address; set {prefix}_allow_any_source: true to accept that",
            )
        else:
            result.append(network)
    return result


def flow_networks(check, prefix, engine, flows, port, allow_any, host, groups, hostvars, reports, outside):
    """(networks, needs): the networks the flows allow to reach ``port`` of ``host``, and the
    hosts whose addresses are still needed (when ``reports`` is None, before any host is read)."""
    if reports is not None:
        reports = _flows.with_outside(reports, outside)
    resolver = _flows.Resolver(hostvars or {}, reports)
    flow_check = Checker()
    found = _flows.sources_for(
        host,
        port,
        flows if flows is not None else [],
        groups or {},
        hostvars,
        reports,
        check=flow_check,
        resolver=resolver,
    )
    check.errors.extend(flow_check.errors)
    check.warnings.extend(w for w in flow_check.warnings if w.startswith("firewall_flows"))
    networks = []
    refusal = f"{engine} refuses that unless {prefix}_allow_any_source is true"
    for rule in found:
        where = f"firewall_flows ({rule['comment']})"
        if rule["any"]:
            if allow_any:
                networks += ANY
            else:
                check.line(where, f"allows port {port} from any address; {refusal}")
            continue
        for network in rule["networks"]:
            if scoped(network):
                check.line(where, f"{network}: an address with a zone (%...) cannot be a client network")
                continue
            if is_any(network) and not allow_any:
                check.line(where, f"allows port {port} from {network}; {refusal}")
                continue
            networks.append(network)
    return networks, resolver.needs


def is_vaulted(value):
    """Whether a value comes from Ansible Vault (2.19's EncryptedString or VaultedValue tag, or older)."""
    if type(value).__name__ in ("AnsibleVaultEncryptedUnicode", "EncryptedString"):
        return True
    if getattr(value, "__ENCRYPTED__", False):
        return True
    try:
        from ansible.parsing.vault import VaultHelper  # ansible-core 2.19 and later
    except ImportError:  # pragma: no cover - older ansible-core
        return False
    try:
        return VaultHelper.get_ciphertext(value, with_tags=False) is not None
    except Exception:  # a value of a type the helper does not know is not vaulted
        return False


def unknown_keys(check, where, item, allowed):
    unknown = sorted(str(key) for key in item if key not in allowed)
    if unknown:
        check.line(where, f"unknown key(s) {', '.join(unknown)} (allowed: {', '.join(allowed)})")


def state(check, where, item):
    return check.one_of(where, "state", item.get("state"), STATES) or "present"


def password(check, where, value, require_vaulted, prefix):
    """A user's password: a non-empty string on one line (never quoted in the message), and
    vaulted when ``<prefix>_require_vaulted_passwords`` says so."""
    if value is None:
        return
    if not isinstance(value, str) or not str(value) or CONTROL.search(str(value)):
        check.line(where, "password must be a non-empty string on one line, without control characters")
    elif require_vaulted and not is_vaulted(value):
        check.line(
            where,
            f"password is given in clear, but {prefix}_require_vaulted_passwords requires a vaulted"
            " variable (ansible-vault encrypt_string, or a variable from a vaulted file)",
        )


def grant_items(check, prefix, grants, grantee, grantees, databases, keys):
    """Walk ``<prefix>_grants``; yield ``(where, item)`` for every mapping, after the checks
    every engine makes: its keys, the grantee (key ``grantee``: a user or a role) among the
    ``grantees`` declared present in ``<prefix>_<grantee>s``, the database among the
    ``databases`` declared present."""
    var = f"{prefix}_grants"
    if not isinstance(grants, list):
        check.line(var, "must be a list")
        return
    for index, item in enumerate(grants):
        where = f"{var}[{index}]"
        if not isinstance(item, dict):
            check.line(where, "must be a mapping")
            continue
        where += f" ({item.get(grantee)} on {item.get('database')})"
        unknown_keys(check, where, item, keys)
        if not isinstance(item.get(grantee), str) or item.get(grantee) not in grantees:
            check.add(
                where,
                grantee,
                item.get(grantee),
                f"is not a {grantee} declared present in {prefix}_{grantee}s",
            )
        if not isinstance(item.get("database"), str) or item.get("database") not in databases:
            known = ", ".join(repr(name) for name in sorted(databases)) or "none"
            check.add(
                where,
                "database",
                item.get("database"),
                f"is not a database declared present (known: {known})",
            )
        yield where, item


def known_reports(names, hostvars):
    """The reports groundwork.server.firewall published in this run for the named hosts."""
    reports = {name: _flows.published_report(hostvars, name) for name in names}
    return {name: report for name, report in reports.items() if report is not None}


def source_results(sources):
    """The loop results of the role's delegated task that read the clients' addresses."""
    results = (sources or {}).get("results") if isinstance(sources, dict) else None
    return [r for r in results or [] if isinstance(r, dict) and "item" in r and not r.get("skipped")]


def resolve(build, hostvars, sources, problems=()):
    """(model, problems): ``build(reports, outside)`` first without the clients' reports,
    which names the clients it ``needs``; then, when every client the run's firewall reports
    do not cover was asked (``sources``, the delegated task's result), with their addresses.
    The model gains ``clients`` (the hosts to ask) and ``complete``."""
    first = build(None, None)
    problems = list(first["errors"]) + list(problems)
    if problems:
        return None, problems
    reports = known_reports(first["needs"], hostvars)
    clients = [name for name in first["needs"] if name not in reports]
    results = source_results(sources)
    asked = {result["item"] for result in results}
    complete = all(name in asked for name in clients)
    model = first
    if first["needs"] and complete:
        model = build(reports, results)
        if model["errors"]:
            return None, list(model["errors"])
    return dict(model, clients=clients, complete=complete or not first["needs"]), []


def integer_at_least(value, low):
    try:
        return not isinstance(value, bool) and int(value) >= low
    except (TypeError, ValueError):
        return False


def whole(value, low, high):
    """``value`` as a whole number from ``low`` to ``high``, or None: an int, or a string of
    ASCII digits as the number is written (no sign, no leading zero, no other script's
    digits: the role writes the value as given, and a leading 0 means octal to some parsers)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()) or str(int(value)) != value:
            return None
        value = int(value)
    if not isinstance(value, int) or not low <= value <= high:
        return None
    return value


def is_calendar(text):
    """Whether ``text`` has the shape of a systemd calendar expression (systemd.time(7))."""
    if not isinstance(text, str) or CONTROL.search(text):
        return False
    words = text.split(" ")
    if len(words) == 1 and words[0].lower() in CALENDAR_WORDS:
        return True
    if "" in words:
        return False
    consumed = 0
    for part in (WEEKDAYS, CALENDAR_DATE, CALENDAR_TIME):
        if words and part.fullmatch(words[0]):
            words = words[1:]
            consumed += 1
    if consumed and len(words) == 1 and TIME_ZONE.fullmatch(words[0]):
        words = []
    return consumed > 0 and not words


def backup_dir_problem(directory):
    """Why ``directory`` cannot be a backup directory, or None."""
    checked = Checker().path("", "", directory, optional=False)
    if checked is None or not BACKUP_DIR.fullmatch(directory):
        return "an absolute path of letters, digits, '_', '.', '-' and '/' (normalised, without '..')"
    if not any(directory.startswith(root + "/") for root in BACKUP_ROOTS):
        roots = ", ".join(BACKUP_ROOTS)
        return f"an absolute path under one of {roots} (a directory the role may make its server's own)"
    return None


def declared_databases(values, prefix):
    items = values.get(f"{prefix}_databases") or []
    return {
        item.get("name")
        for item in items
        if isinstance(item, dict)
        and item.get("state", "present") == "present"
        and isinstance(item.get("name"), str)
    }


def backup_problems(prefix, values, database_name):
    """Problems of ``<prefix>_backup_enabled``, ``_dir``, ``_keep``, ``_schedule`` and
    ``_databases``; ``database_name`` is the engine's pattern of a database name. Each
    database to back up must be declared present in ``<prefix>_databases``."""
    problems = []

    def refuse(key, allowed, value=None, name=None):
        name = name or f"{prefix}_backup_{key}"
        value = values[f"{prefix}_backup_{key}"] if value is None else value
        problems.append(f"{name}: {json.dumps(value, default=str)} is not {allowed}.")

    if not isinstance(values.get(f"{prefix}_backup_enabled", True), bool):
        refuse("enabled", "true or false")
    problem = backup_dir_problem(values[f"{prefix}_backup_dir"])
    if problem:
        refuse("dir", problem)
    if whole(values[f"{prefix}_backup_keep"], 1, MAX_KEEP) is None:
        refuse("keep", f"a number of at least 1 (a whole number from 1 to {MAX_KEEP})")
    if not is_calendar(values[f"{prefix}_backup_schedule"]) or not SCHEDULE.fullmatch(
        values[f"{prefix}_backup_schedule"]
    ):
        refuse(
            "schedule", "a systemd calendar expression (like '*-*-* 02:30:00', 'Mon..Fri 03:00' or 'daily')"
        )
    names = values[f"{prefix}_backup_databases"]
    if not isinstance(names, list) or not all(
        isinstance(n, str) and database_name.fullmatch(n) for n in names
    ):
        refuse("databases", "a list of database names")
    else:
        declared = declared_databases(values, prefix)
        for index, name in enumerate(names):
            if name not in declared:
                refuse(
                    "databases",
                    f"a database declared present in {prefix}_databases",
                    name,
                    f"{prefix}_backup_databases[{index}]",
                )
    return problems


def port(check, var, value, default):
    """``<prefix>_port``: 1 to 65535, as an int or plain ASCII digits (the files carry it as given)."""
    number = whole(value, 1, 65535)
    if number is None:
        check.add(
            var,
            "port",
            value,
            "is out of range (expected a whole number from 1 to 65535, without leading zeros)",
        )
        return default
    return number


def booleans(check, values, names):
    """Each of ``names`` in ``values`` a real boolean (a string "no" would count as true)."""
    for name in names:
        if name in values and not isinstance(values[name], bool):
            check.add(name, None, values[name], "must be true or false")


def certificate(check, var, name, tls_certificates):
    """``<prefix>_certificate``: empty, or the name of a certificate of ``tls_certificates``
    (groundwork.server.tls on this host)."""
    if name == "":
        return
    if not isinstance(name, str) or not CERTIFICATE.fullmatch(name):
        check.add(var, None, name, "is not a certificate name (a-z, 0-9, '_', '.' and '-') or empty")
        return
    items = tls_certificates if isinstance(tls_certificates, list) else []
    known = sorted(
        {item.get("name") for item in items if isinstance(item, dict) and isinstance(item.get("name"), str)}
    )
    if name not in known:
        listed = ", ".join(quote(n) for n in known) or "none"
        check.add(var, None, name, f"is not a certificate of tls_certificates on this host (known: {listed})")


def packages(check, var, names):
    """``<prefix>_packages``: a list of Debian package names."""
    if not isinstance(names, list):
        check.add(var, None, names, "must be a list of package names")
        return
    for index, name in enumerate(names):
        check.pattern(f"{var}[{index}]", None, name, PACKAGE, PACKAGE_WHAT, optional=False)


ROUTES_PROGRAM = os.path.join(os.path.dirname(__file__), "_probes", "client_routes.py")


def validated(model, context):
    """What ``step: validate`` returns: the clients whose addresses the role's task reads, and
    the program that reads them (``routes_program``, run there by groundwork.server.host_info)."""
    del context
    with open(ROUTES_PROGRAM, encoding="utf-8") as handle:
        return {"clients": model["model"]["clients"], "routes_program": handle.read()}


def clients_problem(access):
    """The plan's refusal when the clients' addresses were not read, or None."""
    if access["complete"]:
        return None
    return (
        f"The addresses of {', '.join(access['clients'])} (clients in firewall_flows) were not read:"
        " run the role's task that reads them (tasks/decide.yml) before the plan,"
        " or set firewall_addresses."
    )


def backup_units(unit, enabled, rendered):
    """The backup service and timer ``unit``.service/.timer (the role's service.j2 and timer.j2),
    or their removal when backups are disabled."""
    if enabled:
        return [
            {"path": f"{unit}.service", "content": rendered["service.j2"]},
            {"path": f"{unit}.timer", "content": rendered["timer.j2"]},
        ]
    return [{"path": f"{unit}.{kind}", "state": "absent"} for kind in ("service", "timer")]


def renewal_hook(certificate, consumer, content, hooks):
    """The renewal hook of the certificate in use (mode 0755, ``content``), and the removal of
    the ``consumer``'s hooks registered for certificates no longer used."""
    specs, in_use = [], []
    if certificate:
        in_use = [certificate]
        specs = [{"path": contracts.hook_path(certificate, consumer), "mode": "0755", "content": content}]
    stale = contracts.stale_hooks(hooks, consumer, in_use)
    return specs + [{"path": path, "state": "absent"} for path in stale]


def host_changes(prefix, values, wanted, inspection, specs, server, extra=()):
    """Everything a database role's apply step changes, and the answers its tasks need.

    ``server``: "user" (the server's system user) and "groups" (its groups), "service" and
    "service_state", "timer" and "timer_state" (the backup timer), "backup_dir" (the
    directory's owner, group and mode). ``extra``: the engine's own changes, listed after the
    files."""
    files = inspection.get("files") or {}
    enabled = values[f"{prefix}_backup_enabled"]
    timer, timer_state = server["timer"], server["timer_state"] or {}
    changes = package_changes(wanted, inspection.get("packages"))
    running = timer_state.get("enabled") == "enabled" or timer_state.get("active") == "active"
    stop_timer = not enabled and running
    if stop_timer:
        changes.append(Change("service", timer, "backups are disabled; stop and disable the timer"))
    changes += file_changes(specs, files)
    join = bool(values[f"{prefix}_certificate"]) and contracts.TLS_GROUP not in server["groups"]
    if join:
        changes.append(Change("group", server["user"], f"not a member of {contracts.TLS_GROUP}"))
    changes += list(extra)
    start_service = unit_changes(server["service"], server["service_state"])
    changes += start_service
    fix_dir, start_timer = [], []
    if enabled:
        directory = {"path": values[f"{prefix}_backup_dir"], "state": "directory", **server["backup_dir"]}
        fix_dir = [Change("directory", c.target, c.reason) for c in file_changes([directory], files)]
        start_timer = unit_changes(timer, timer_state)
        changes += fix_dir + start_timer
    answers = {
        "missing": missing_packages(wanted, inspection.get("packages")),
        "stop_timer": stop_timer,
        "join_tls_group": join,
        "start_service": bool(start_service),
        "backup_dir_change": bool(fix_dir),
        "start_timer": bool(start_timer),
    }
    return changes, answers
