# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the web-server roles (groundwork.server.nginx, groundwork.server.apache) decide
alike, whichever server renders the site model: the validation of the sites against the
features a server renders, Mozilla's intermediate TLS profile, the files every server
writes besides its own (basic-auth user files, renewal hooks, stale hooks to remove), the
ACME webroot, the changes of a run and what the applying tasks need.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils import _web_server
"""

from __future__ import annotations

import posixpath
import re

from ansible_collections.groundwork.server.plugins.module_utils import _contracts as contracts
from ansible_collections.groundwork.server.plugins.plugin_utils._model_check import Checker
from ansible_collections.groundwork.server.plugins.plugin_utils._plan import (
    Change,
    file_changes,
    missing_packages,
    package_changes,
    start_needed,
    unit_changes,
)
from ansible_collections.groundwork.server.plugins.plugin_utils._site_htpasswd import htpasswd_file
from ansible_collections.groundwork.server.plugins.plugin_utils._site_model import (
    FEATURES,
    site_model,
    unrendered,
)

# Mozilla's intermediate profile (TLS 1.2 ciphers; TLS 1.3 suites are all acceptable).
SSL_CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
    "DHE-RSA-AES128-GCM-SHA256",
    "DHE-RSA-AES256-GCM-SHA384",
    "DHE-RSA-CHACHA20-POLY1305",
)
SSL_CURVES = ("X25519", "prime256v1", "secp384r1")
# Where the ACME webroot may be: the role creates its challenge directory there, and
# groundwork.server.tls writes the challenges into it (never into /etc, /usr, /, ...).
WEBROOT_UNDER = ("/srv", "/var/lib", "/var/www")
WEBROOT_CHARS = re.compile(r"/[A-Za-z0-9._/-]*")


def global_problems(settings, prefix):
    """The problems of the settings every web server has: the ACME webroot (a normalised
    path of letters, digits, '.', '_', '-' under WEBROOT_UNDER), the defaults of the sites
    (``<prefix>_hsts_max_age``, ``<prefix>_security_headers``) and the extra packages
    (Debian's package names)."""
    check = Checker()
    var = f"{prefix}_acme_webroot"
    webroot = settings.get(var)
    if check.path(var, None, webroot, optional=False) is not None:
        if not WEBROOT_CHARS.fullmatch(webroot):
            check.add(var, None, webroot, "is not valid (expected letters, digits, '.', '_', '-' and '/')")
        elif not any(webroot.startswith(under + "/") for under in WEBROOT_UNDER):
            check.add(
                var,
                None,
                webroot,
                f"is outside {', '.join(WEBROOT_UNDER)} (expected a directory under one of them)",
            )
    check.integer(
        f"{prefix}_hsts_max_age", None, settings.get(f"{prefix}_hsts_max_age"), 0, 10**9, optional=False
    )
    security = settings.get(f"{prefix}_security_headers")
    if not isinstance(security, bool):
        check.add(f"{prefix}_security_headers", None, security, "must be true or false")
    var = f"{prefix}_packages"
    packages = settings.get(var)
    if not isinstance(packages, list):
        check.add(var, None, packages, "must be a list of Debian package names")
    for index, name in enumerate(packages if isinstance(packages, list) else []):
        check.package(f"{var}[{index}]", None, name)
    return check.errors


def renders(not_rendered):
    """The features of the site model a server renders: all but ``not_rendered``."""
    unknown = set(not_rendered) - set(FEATURES)
    if unknown:
        raise ValueError(f"not features of the site model: {sorted(unknown)}")
    return frozenset(FEATURES) - frozenset(not_rendered)


def json_text(value):
    """A value as to_json writes it, for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return "null" if value is None else str(value)


def validate_sites(inputs, context, prefix, features, role, setting_problems, upstream_defaults=None):
    """The site model of ``<prefix>_sites``, ``<prefix>_upstreams`` and
    ``<prefix>_certificates`` checked against the inventory, the certificates and the
    ``features`` the server ``role`` renders, with the server's defaults for what a site
    does not say (``<prefix>_client_max_body_size``, ``_hsts_max_age``,
    ``_security_headers``): (model, problems). The problems are the model's, then
    ``setting_problems`` (the server's global settings); only a model and settings without
    problems are checked against the features."""
    model = site_model(
        inputs[f"{prefix}_sites"],
        upstreams=inputs[f"{prefix}_upstreams"],
        certificates=inputs[f"{prefix}_certificates"],
        groups=context.groups,
        hostvars=context.hostvars,
        sites_var=f"{prefix}_sites",
        upstreams_var=f"{prefix}_upstreams",
        certificates_var=f"{prefix}_certificates",
        defaults={
            "client_max_body_size": inputs[f"{prefix}_client_max_body_size"],
            "hsts_max_age": inputs[f"{prefix}_hsts_max_age"],
            "security_headers": inputs[f"{prefix}_security_headers"],
        },
        upstream_defaults=upstream_defaults,
    )
    problems = list(model.pop("errors")) + certificate_problems(inputs, prefix) + list(setting_problems)
    if not problems:
        problems += unrendered(model, features, role)
    return model, problems


def certificate_problems(inputs, prefix):
    """``<prefix>_certificates`` resolved against the tls model: where the host has
    ``tls_certificates`` (groundwork.server.tls), every name is one of them. (Without it the
    certificates come from elsewhere and there is no model to resolve against.)"""
    if "tls_certificates" not in inputs:
        return []
    items = inputs["tls_certificates"]
    items = items if isinstance(items, list) else []
    known = sorted(
        {item["name"] for item in items if isinstance(item, dict) and isinstance(item.get("name"), str)}
    )
    names = inputs[f"{prefix}_certificates"]
    check = Checker()
    for index, name in enumerate(names if isinstance(names, list) else []):
        if isinstance(name, str) and name not in known:
            listed = ", ".join(repr(n) for n in known) or "none"
            check.add(
                f"{prefix}_certificates[{index}]",
                None,
                name,
                f"is not a certificate of tls_certificates on this host (known: {listed})",
            )
    return check.errors


def probe_args(model, consumer, **extra):
    """The arguments of a web server's probe: what ``certificate_facts`` of the shared probe
    library reads about the certificates the sites use (plugin_utils/_host_probe.py), and
    the server's own ``extra``."""
    return {
        "names": model["certificates"],
        "certificate_dir": contracts.CERTIFICATE_DIR,
        "hook_dir": contracts.HOOK_DIR,
        "consumer": consumer,
        "placeholder": contracts.PLACEHOLDER,
        "acme_specs_dir": contracts.ACME_SPECS_DIR,
        "renew_unit": contracts.RENEW_SERVICE,
        **extra,
    }


def raw_snippets(model, key):
    """The raw directive sets of the sites (``key``: raw_nginx or raw_apache), as the probes
    check them: [{"where", "key", "context": "server" | "location", "lines"}]."""
    snippets = []
    for site in model["sites"]:
        if site[key]:
            snippets.append({"where": site["where"], "key": key, "context": "server", "lines": site[key]})
        for index, location in enumerate(site["locations"]):
            if location[key]:
                snippets.append(
                    {
                        "where": site["where"],
                        "key": f"locations[{index}].{key}",
                        "context": "location",
                        "lines": location[key],
                    }
                )
    return snippets


def raw_problems(model, key, probe, server):
    """The raw directive sets the installed server refused (the probe's ``raw_errors``), one
    problem each, before any file is written."""
    lines = {(s["where"], s["key"]): s["lines"] for s in raw_snippets(model, key)}
    return [
        f"{error['where']}: {error['key']} {lines.get((error['where'], error['key']))!r} is refused by the"
        f" installed {server}: {error['error']} (expected directives {server} accepts in this place)"
        for error in probe.get("raw_errors") or []
    ]


def challenge_dir(webroot):
    """Where the ACME http-01 challenge files of ``webroot`` are."""
    return posixpath.join(webroot, ".well-known/acme-challenge")


def package_names(wanted):
    """The names dpkg knows the packages by (without =version or :arch)."""
    return [re.sub(r"[=:].*$", "", name) for name in wanted]


def webroot_spec(challenge_dir):
    """The ACME http-01 challenge directory every site serves on its plain port."""
    return {"path": challenge_dir, "state": "directory", "owner": "root", "group": "root", "mode": "0755"}


def acme_pending(probe):
    """The ACME certificates to obtain now that the server serves their names (only where
    the renewal service of groundwork.server.tls is installed)."""
    return list(probe.get("acme_pending") or []) if probe.get("renew_service") else []


def shared_specs(model, host, consumer, htpasswd_path, hooks, registered_hooks):
    """The files a web server writes besides its own configuration: each basic-auth site's
    user file (SHA-512 crypt, readable by www-data), each certificate's renewal hook
    (``hooks``: name -> rendered script) and the removal of the hooks the server registered
    for certificates it no longer uses."""
    specs = []
    for site in model["sites"]:
        if site["basic_auth"]:
            specs.append(
                {
                    "path": htpasswd_path(site["name"]),
                    "group": "www-data",
                    "mode": "0640",
                    "secret": True,
                    "content": htpasswd_file(site["basic_auth"]["users"], f"{host}:{site['name']}"),
                }
            )
    for name in model["certificates"]:
        specs.append({"path": contracts.hook_path(name, consumer), "mode": "0755", "content": hooks[name]})
    for path in contracts.stale_hooks(registered_hooks, consumer, model["certificates"]):
        specs.append({"path": path, "state": "absent"})
    return specs


def changes(wanted, specs, webroot, observed, owned_dirs, inspection, unit, server):
    """What a run changes: missing packages, files that differ (and strays in the owned
    directories), the server's unit not running, ACME certificates that wait for it."""
    found = package_changes(wanted, inspection.get("packages"))
    found += file_changes([webroot, *specs], observed, owned_dirs, inspection.get("dirs"))
    found += unit_changes(unit, (inspection.get("units") or {}).get(unit))
    pending = acme_pending(inspection.get("probe") or {})
    found += [Change("certificate", name, f"ACME certificate waits for {server}") for name in pending]
    return found


def apply_data(
    wanted, specs, webroot, owned_dirs, health_url, inspection, check_mode, server_package, unit, found
):
    """What the applying tasks of a web server need. ``unit`` as for changes(), ``found`` what
    changes() returned."""
    missing = missing_packages(wanted, inspection.get("packages"))
    # apt's check mode needs python3-apt: on a fresh host a check run only reports.
    report_only = bool(check_mode and "python3-apt" in missing)
    # A check run on a host without the server cannot start it.
    start = not (check_mode and server_package in missing)
    # the transaction writes every file but the webroot (a task of its own)
    activated = any(change.kind == "file" and change.target != webroot["path"] for change in found)
    return {
        "packages": list(wanted),
        "packages_missing": missing,
        "packages_report_only": report_only,
        "files": specs,
        "owned_dirs": list(owned_dirs),
        "webroot": webroot,
        "health_url": health_url,
        "start": start,
        # The configuration's transaction starts a stopped server when it changes files: the
        # task that enables and starts it runs only for what the transaction leaves undone.
        "enable_start": start and start_needed(unit, (inspection.get("units") or {}).get(unit), activated),
        "acme_pending": acme_pending(inspection.get("probe") or {}),
        "certificate_dir": contracts.CERTIFICATE_DIR,
        "renew_unit": contracts.RENEW_SERVICE,
    }
