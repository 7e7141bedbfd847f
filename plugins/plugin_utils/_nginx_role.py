# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The decision of groundwork.server.nginx (run by the action groundwork.server.role_plan):
validate the sites, upstreams and settings, ask the host for what the configuration
depends on, and plan the changes. The pure functions are in _nginx_plan.py.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils import _nginx_role
"""

from __future__ import annotations

import json

from ansible_collections.groundwork.server.plugins.plugin_utils import _nginx_plan as nginx
from ansible_collections.groundwork.server.plugins.plugin_utils import _web_server as web
from ansible_collections.groundwork.server.plugins.plugin_utils._plan import Plan, release_problem

# The features of the site model (plugin_utils/_site_model.py FEATURES) this role renders:
# all but active health checks (open-source nginx has none) and Apache's directives.
FEATURES = web.renders({"active_health_check", "raw_apache"})
SETTINGS = (
    "nginx_worker_connections",
    "nginx_keepalive_timeout",
    "nginx_keepalive_requests",
    "nginx_client_max_body_size",
    "nginx_gzip_level",
    "nginx_access_log_buffer",
    "nginx_access_log_flush",
    "nginx_ssl_session_cache_size",
    "nginx_acme_webroot",
    "nginx_resolvers",
    "nginx_hsts_max_age",
    "nginx_security_headers",
    "nginx_packages",
    "nginx_ipv6",
)


def validate(inputs, context):
    """The site model, checked against the inventory, the certificates and the features
    nginx renders, and the global settings."""
    settings = {name: inputs[name] for name in SETTINGS}
    model, problems = web.validate_sites(
        inputs, context, "nginx", FEATURES, nginx.ROLE, nginx.setting_problems(settings)
    )
    packages = settings["nginx_packages"]
    settings["nginx_packages"] = list(packages) if isinstance(packages, list) else []
    model["settings"] = settings
    return model, problems


def request(model, context):
    return {
        "files": nginx.paths(model),
        "dirs": list(nginx.OWNED_DIRS),
        "packages": web.package_names(nginx.packages(model)),
        "units": [nginx.UNIT],
        "probe": web.probe_args(
            model,
            nginx.CONSUMER,
            pid_file=nginx.PID_FILE,
            raw=web.raw_snippets(model, "raw_nginx"),
            raw_stubs=nginx.raw_stubs(model),
        ),
    }


def plan(model, inspection, context):
    result = Plan()
    problem = release_problem("nginx", inspection["os"])
    if problem:
        result.problems.append(problem)
        return result
    probe = inspection.get("probe") or {}
    # raw_nginx the installed nginx refuses: nothing is written
    problems = web.raw_problems(model, "raw_nginx", probe, "nginx")
    if problems:
        result.problems.extend(problems)
        return result
    values = dict(nginx.constants(), **nginx.tuning(model, probe, inspection["os"]))
    rendered = json.loads(context.render("files.j2", __nginx_model=model, __nginx=values))
    specs = nginx.file_specs(
        model,
        rendered,
        context.read_file("ffdhe2048.pem").rstrip() + "\n",
        context.host,
        probe.get("hooks") or [],
    )
    found = nginx.changes(model, specs, inspection)
    result.extend(found)
    result.data.update(nginx.apply_data(model, specs, found, inspection, context.check_mode))
    result.secret = any(site["basic_auth"] for site in model["sites"])
    return result
