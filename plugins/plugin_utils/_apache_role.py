# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The decision of groundwork.server.apache (run by the action groundwork.server.role_plan):
validate the sites, upstreams and settings (the site model nginx renders too), ask the host
for what the configuration depends on, and plan the changes. The pure functions are in
_apache_plan.py.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils import _apache_role
"""

from __future__ import annotations

import json

from ansible_collections.groundwork.server.plugins.plugin_utils import _apache_plan as apache
from ansible_collections.groundwork.server.plugins.plugin_utils import _web_server as web
from ansible_collections.groundwork.server.plugins.plugin_utils._plan import Plan, release_problem

FEATURES = apache.FEATURES
SETTINGS = (
    "apache_max_request_workers",
    "apache_keepalive_timeout",
    "apache_keepalive_requests",
    "apache_timeout",
    "apache_client_max_body_size",
    "apache_compression_level",
    "apache_ssl_session_cache_size",
    "apache_acme_webroot",
    "apache_hsts_max_age",
    "apache_security_headers",
    "apache_modules",
    "apache_packages",
)


def validate(inputs, context):
    """The site model, checked against the inventory, the certificates and the features
    Apache renders, and the global settings."""
    settings = {name: inputs[name] for name in SETTINGS}
    model, problems = web.validate_sites(
        inputs,
        context,
        "apache",
        FEATURES,
        apache.ROLE,
        apache.setting_problems(settings),
        upstream_defaults=apache.UPSTREAM_DEFAULTS,
    )
    if not problems:
        problems += apache.model_problems(model)
    for name in ("apache_modules", "apache_packages"):
        settings[name] = list(settings[name] or []) if isinstance(settings[name], list) else []
    model["settings"] = settings
    return model, problems


def request(model, context):
    return {
        "files": apache.paths(model),
        "dirs": list(apache.OWNED_DIRS),
        "packages": web.package_names(apache.packages(model)),
        "units": [apache.UNIT],
        "probe": web.probe_args(
            model,
            apache.CONSUMER,
            mods_available=apache.MODS_AVAILABLE,
            mods_enabled=apache.MODS_DIR,
            raw=web.raw_snippets(model, "raw_apache"),
            raw_modules=apache.needed_modules(model),
        ),
    }


def plan(model, inspection, context):
    result = Plan()
    problem = release_problem("apache", inspection["os"])
    if problem:
        result.problems.append(problem)
        return result
    probe = inspection.get("probe") or {}
    # raw_apache the installed Apache refuses: nothing is written
    problems = web.raw_problems(model, "raw_apache", probe, "Apache")
    if problems:
        result.problems.extend(problems)
        return result
    available = probe.get("modules")
    loaded, problems = apache.modules(model, available)
    if problems:
        result.problems.extend(problems)
        return result
    values = dict(apache.constants(), **apache.tuning(model, probe, context.host))
    rendered = json.loads(context.render("files.j2", __apache_model=model, __apache=values))
    static = {
        "dhparam": context.read_file("ffdhe2048.pem").rstrip() + "\n",
        "check": context.read_file("check.py"),
    }
    specs = apache.file_specs(
        model,
        rendered,
        static,
        context.host,
        probe.get("hooks") or [],
        apache.module_links(model, loaded, available),
    )
    found = apache.changes(model, specs, inspection)
    result.extend(found)
    result.data.update(apache.apply_data(model, specs, found, inspection, context.check_mode))
    result.data["modules"] = loaded
    result.secret = any(site["basic_auth"] for site in model["sites"])
    return result
