# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import datetime
import time

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: tls_plan
short_description: Decide what the tls role does with each certificate of a host
version_added: 0.1.0
author: groundwork developers
description:
  - Compares the certificates a host should have (the output of C(groundwork.server.tls_model)) with what
    the role's inspection found on the host, and decides per certificate - keep it, issue it (a new key and
    certificate), write a placeholder for an ACME certificate that is not issued yet, mark an existing
    certificate as a placeholder (it was not issued through ACME), or leave an ACME certificate to the
    renewal program.
  - A C(selfsigned) or C(internal_ca) certificate is issued again when its files are missing or unreadable,
    its key does not match, its names (SANs, compared as a set) or key type differ, it was not issued by the
    right issuer, or less than 1/O(renew_fraction) of its lifetime remains.
  - The result holds no private key material.
options:
  _input:
    description: The certificates of the host (C(certificates) of the C(tls_model) result).
    type: list
    elements: dict
    required: true
  host:
    description: The inspection of the host (the JSON the role's C(files/inspect.py) prints).
    type: dict
    required: true
  ca_certificate:
    description: The internal CA certificate (PEM), or null when it does not exist (yet).
    type: str
  renew_fraction:
    description: Issue again when less than 1/N of the lifetime remains.
    type: int
    default: 3
  key_group:
    description: The group private keys belong to.
    type: str
    default: groundwork-tls
  placeholder_days:
    description: Lifetime of the temporary self-signed certificate of an ACME certificate.
    type: int
    default: 90
  now:
    description: The current time as a UNIX timestamp (for tests); default the controller's clock.
    type: float
"""

EXAMPLES = r"""
- name: Decide what to do with each certificate
  ansible.builtin.set_fact:
    __plan: >-
      {{ __model.certificates | groundwork.server.tls_plan(host=__inspect.stdout | from_json,
         ca_certificate=__ca_pem, renew_fraction=tls_renew_fraction) }}
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    certificates:
      description:
        - One entry per certificate - C(name), C(provider), C(domains), C(key_type), C(days), C(action)
          (V(keep), V(issue), V(placeholder), V(mark), V(acme) or V(write)), C(reasons), C(pending) (an
          ACME certificate the renewal program still has to issue), and C(cert) and C(chain) (the current
          PEM files).
      type: list
      elements: dict
    issue:
      description: The certificates that get a new key and certificate, with C(signer) V(self) or V(ca).
      type: list
      elements: dict
    pending:
      description: Names of the ACME certificates the renewal program still has to issue.
      type: list
      elements: str
    dirs:
      description: Names whose directory is missing or has the wrong owner or mode.
      type: list
      elements: str
    key_attributes:
      description: Names whose existing private key has the wrong owner, group or mode.
      type: list
      elements: str
    summary:
      description: One line per certificate that changes, with the reasons.
      type: list
      elements: str
"""

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


class FilterModule:
    """Ansible filter plugin: groundwork.server.tls_plan."""

    def filters(self):
        return {"tls_plan": tls_plan}
