# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every file groundwork.server.tls writes on a host, as groundwork.server.service_config
specs (the plan's ``files``).

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils._tls_files import tls_files
"""

from __future__ import annotations

import json

from ansible.errors import AnsibleFilterError
from ansible_collections.groundwork.server.plugins.module_utils import _contracts as contracts

PLACEHOLDER = "A temporary self-signed certificate until the ACME certificate is issued.\n"
MARK = "Not issued through ACME yet; the renewal program replaces it.\n"
NO_CA_YET = "(the internal CA certificate, created by a real run)\n"
OPTIONS = (
    "dir",
    "spec_dir",
    "acme_ca_file",
    "trust_file",
    "program",
    "unit_dir",
    "units",
    "ca",
    "trust",
    "has_acme",
    "key_group",
    "key_group_now",
    "program_text",
    "unit_texts",
)


def _certificate_files(files, plan, model, issued, ca_chain, options):
    by_name = {cert["name"]: cert for cert in model["certificates"]}
    for entry in plan["certificates"]:
        name = entry["name"]
        directory = f"{options['dir']}/{name}/"
        cert = None
        internal = entry["provider"] == "internal_ca"
        if entry["provider"] == "provided":
            provided = by_name[name]
            cert, chain = provided["certificate"], provided["chain"]
            files.append(
                {
                    "path": directory + "privkey.pem",
                    "content": provided["private_key"],
                    "secret": True,
                    "group": options["key_group_now"],
                    "mode": "0640",
                }
            )
        elif entry["action"] in ("issue", "placeholder"):
            cert = issued.get(name) or "(a new certificate: " + "; ".join(entry["reasons"]) + ")\n"
            chain = ca_chain if internal else ""
            if entry["action"] == "placeholder":
                files.append({"path": directory + contracts.PLACEHOLDER, "content": PLACEHOLDER})
        elif entry["action"] == "keep":
            cert = entry["cert"]
            chain = ca_chain if internal else ""
        elif entry["action"] == "mark":
            files.append({"path": directory + contracts.PLACEHOLDER, "content": MARK})
        if cert is not None:
            files.append({"path": directory + "cert.pem", "content": cert})
            files.append({"path": directory + "chain.pem", "content": chain})
            files.append({"path": directory + "fullchain.pem", "content": cert + chain})


def _acme_specs(files, model, options):
    acme = model["acme"]
    for cert in model["certificates"]:
        if cert["provider"] != "acme":
            continue
        spec = {
            "name": cert["name"],
            "domains": cert["domains"],
            "key_type": cert["key_type"],
            "directory": acme["directory"],
            "ca_bundle": options["acme_ca_file"] if acme["ca_bundle"] else None,
            "email": acme["email"],
            "webroot": acme["webroot"],
            "renew_fraction": acme["renew_fraction"],
            "key_group": options["key_group"],
        }
        files.append(
            {
                "path": f"{options['spec_dir']}/{cert['name']}.json",
                "content": json.dumps(spec, indent=2, sort_keys=True, separators=(",", ": ")) + "\n",
            }
        )


def tls_files(plan, model=None, host=None, issued=None, options=None):
    """The files of the plan: certificates (with what this run issued), keys of provided
    certificates, placeholder markers, ACME renewal specs and CA bundle, the internal CA in
    the trust store (other groundwork trust files removed), the renewal program and units."""
    if not isinstance(plan, dict) or not isinstance(model, dict) or not isinstance(options, dict):
        raise AnsibleFilterError("tls_files: expects the plan, model= and options=")
    missing = [key for key in OPTIONS if key not in options]
    if missing:
        raise AnsibleFilterError(f"tls_files: options lack {', '.join(missing)}")
    files = []
    ca_chain = options["ca"] or NO_CA_YET
    _certificate_files(files, plan, model, issued or {}, ca_chain, options)
    _acme_specs(files, model, options)
    has_acme = bool(options["has_acme"])
    bundle = model["acme"]["ca_bundle"]
    files.append(
        {
            "path": options["acme_ca_file"],
            "content": bundle,
            "state": "present" if has_acme and bundle else "absent",
        }
    )
    if options["trust"]:
        files.append({"path": options["trust_file"], "content": ca_chain})
    for path in (host or {}).get("trust_files") or []:
        if not (options["trust"] and path == options["trust_file"]):
            files.append({"path": path, "state": "absent"})
    renewal = "present" if has_acme else "absent"
    files.append(
        {
            "path": options["program"],
            "mode": "0755",
            "state": renewal,
            "content": options["program_text"] if has_acme else None,
        }
    )
    for unit in options["units"]:
        files.append(
            {
                "path": f"{options['unit_dir']}/{unit}",
                "state": renewal,
                "content": options["unit_texts"][unit] if has_acme else None,
            }
        )
    return files
