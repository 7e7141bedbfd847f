# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What groundwork.server.tls does with each certificate of a host: keep it, issue it
(a new key on the host, signed there or by the internal CA), start an ACME certificate as a
placeholder, mark one for the renewal program, or write a provided one; with the reasons.

``tls_plan(certificates, host, ...)``: certificates of the validated model (_tls_model.py),
host = what the probe (_probes/tls.py) found. Returns {"certificates": [entry with action
and reasons], "issue": [what to issue], "pending": [ACME names the renewal program obtains
now], "dirs": [names whose directory is missing or wrong], "key_attributes": [names whose
key has the wrong owner, group or mode], "summary": [lines]}. ``forced`` ({name: action})
are the certificates issued earlier in this run.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils._tls_plan import tls_plan
"""

from __future__ import annotations

import datetime
import time

from ansible.errors import AnsibleFilterError

DIR_ATTRIBUTES = {"kind": "directory", "owner": "root", "group": "root", "mode": "0755"}


def _when(timestamp):
    return datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _expiring(info, fraction, now):
    """A reason when less than 1/fraction of the lifetime remains, else None."""
    lifetime = info["not_after"] - info["not_before"]
    if info["not_after"] <= now:
        return f"expired on {_when(info['not_after'])}"
    if info["not_after"] - now < lifetime / fraction:
        return (
            f"expires on {_when(info['not_after'])},"
            f" inside the renewal window (last 1/{fraction} of its lifetime)"
        )
    return None


def _usable(current, cryptography):
    """Why the files on the host cannot be kept as they are, or None."""
    if not current.get("cert"):
        return "no certificate yet"
    if not cryptography:
        return "the certificate cannot be inspected before python3-cryptography is installed"
    if current.get("info") is None:
        return "cert.pem is not a readable certificate"
    key = current.get("key")
    if key is None:
        return "privkey.pem is missing"
    if key.get("matches") is not True:
        return "privkey.pem does not belong to the certificate"
    return None


def _differences(cert, info):
    reasons = []
    if sorted(info["sans"]) != sorted(cert["domains"]):
        reasons.append(f"names differ ({', '.join(info['sans']) or 'none'} -> {', '.join(cert['domains'])})")
    if info["key_type"] != cert["key_type"]:
        reasons.append(f"key type differs ({info['key_type']} -> {cert['key_type']})")
    return reasons


def _decide(cert, current, cryptography, ca_certificate, fraction, now):
    """(action, reasons, pending) for one certificate."""
    provider = cert["provider"]
    if provider == "provided":
        return "write", [], False
    unusable = _usable(current, cryptography)
    info = current.get("info")
    if provider == "acme":
        if unusable:
            return "placeholder", [unusable], True
        if current.get("placeholder"):
            expiring = _expiring(info, fraction, now)
            return ("placeholder", [f"placeholder {expiring}"], True) if expiring else ("acme", [], True)
        if not current.get("acme_issued"):
            return "mark", ["the certificate was not issued through ACME"], True
        differences = _differences(cert, info)
        return "acme", differences, bool(differences)
    if unusable:
        return "issue", [unusable], False
    reasons = _differences(cert, info)
    if current.get("placeholder"):
        reasons.append("it is an ACME placeholder")
    if provider == "selfsigned" and not info["self_signed"]:
        reasons.append(f"it is not self-signed (issuer {info['issuer']})")
    if provider == "internal_ca":
        if ca_certificate is None:
            reasons.append("the internal CA is new")
        elif not info["issued_by_ca"]:
            reasons.append(f"the internal CA did not issue it (issuer {info['issuer']})")
    expiring = _expiring(info, fraction, now)
    if expiring:
        reasons.append(expiring)
    return ("issue" if reasons else "keep"), reasons, False


def _wrong_key(key, key_group):
    return key is not None and (key["owner"], key["group"], key["mode"]) != ("root", key_group, "0640")


def tls_plan(
    certificates,
    host,
    ca_certificate=None,
    renew_fraction=3,
    key_group="groundwork-tls",
    placeholder_days=90,
    now=None,
    forced=None,
):
    """Decide per certificate; see DOCUMENTATION."""
    if not isinstance(certificates, list) or not isinstance(host, dict):
        raise AnsibleFilterError("tls_plan: expects the list of certificates and the host inspection")
    now = time.time() if now is None else float(now)
    cryptography = bool(host.get("cryptography"))
    found = host.get("certificates") or {}
    plan = {"certificates": [], "issue": [], "pending": [], "dirs": [], "key_attributes": [], "summary": []}
    for cert in certificates:
        current = found.get(cert["name"]) or {}
        if cert["name"] in (forced or {}):
            # Issued in this run (its key is staged): what remains is writing it.
            action = forced[cert["name"]]
            reasons, pending = ["issued in this run"], action == "placeholder"
        else:
            action, reasons, pending = _decide(
                cert, current, cryptography, ca_certificate or None, int(renew_fraction), now
            )
        entry = {
            "name": cert["name"],
            "provider": cert["provider"],
            "domains": cert["domains"],
            "key_type": cert["key_type"],
            "days": cert.get("days"),
            "action": action,
            "reasons": reasons,
            "pending": pending,
            "cert": current.get("cert"),
            "chain": current.get("chain"),
        }
        plan["certificates"].append(entry)
        if action in ("issue", "placeholder"):
            plan["issue"].append(
                {
                    "name": cert["name"],
                    "provider": cert["provider"],
                    "domains": cert["domains"],
                    "key_type": cert["key_type"],
                    "days": placeholder_days if action == "placeholder" else cert["days"],
                    "signer": "ca" if cert["provider"] == "internal_ca" else "self",
                    "placeholder": action == "placeholder",
                }
            )
        if pending:
            plan["pending"].append(cert["name"])
        if current.get("dir") != DIR_ATTRIBUTES:
            plan["dirs"].append(cert["name"])
        if action not in ("issue", "placeholder", "write") and _wrong_key(current.get("key"), key_group):
            plan["key_attributes"].append(cert["name"])
        if action not in ("keep", "acme", "write") or reasons:
            plan["summary"].append(f"{cert['name']} ({cert['provider']}): {action}: {'; '.join(reasons)}")
    return plan
