# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The validated, normalised certificates and settings of groundwork.server.tls: every problem
is one line naming the certificate, the key, the value and what is allowed; a provided
private key never appears in a message.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils._tls_model import tls_model
"""

from __future__ import annotations

import datetime
import os
import re
import time

from ansible.errors import AnsibleFilterError
from ansible_collections.groundwork.server.plugins.plugin_utils._model_check import (
    Checker,
    named_items,
)

PROVIDERS = ("acme", "internal_ca", "selfsigned", "provided")
KEY_TYPES = ("ecdsa_p256", "ecdsa_p384", "rsa2048", "rsa3072", "rsa4096")
DEFAULT_DAYS = {"selfsigned": 365, "internal_ca": 90}
MAX_DAYS = 3650
ACME_DIRECTORIES = {
    "letsencrypt": "https://acme-v02.api.letsencrypt.org/directory",
    "letsencrypt_staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
}
PROVIDED_KEYS = ("certificate", "chain", "private_key")
KEYS = ("name", "domains", "provider", "key_type", "days", *PROVIDED_KEYS)

NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
NAME_EXPECTED = "a-z, 0-9, '_', '.' and '-', starting with a-z or 0-9"
LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
POSIX_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
URL = re.compile(r"https://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[^\s\"'\\]*)?")
WEBROOT = re.compile(r"/[^\s{};\"'\\]*")
CA_DIR = re.compile(r"(?:/|~/)[^\s\"'\\]*")
PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\s.*?-----END \1-----", re.DOTALL)
HIDDEN = "(not shown)"


def is_domain(value, wildcard=True):
    """An RFC 1123 DNS name (not an IP address); with ``wildcard`` a leading ``*.`` label is allowed."""
    if not isinstance(value, str) or not value or len(value) > 253:
        return False
    if wildcard and value.startswith("*."):
        value = value[2:]
    labels = value.split(".")
    # A top-level label of digits only would make an IPv4 address a "domain".
    return all(LABEL.fullmatch(label) for label in labels) and not labels[-1].isdigit()


def pem_blocks(text, kind):
    """The PEM blocks of one kind (e.g. 'CERTIFICATE') in a text, each ending with a newline."""
    return [m.group(0).strip() + "\n" for m in PEM_BLOCK.finditer(text or "") if m.group(1) == kind]


def key_type_of(public_key):
    """ecdsa_p256, ecdsa_p384, rsa2048 ... of a public key, or a description of another kind."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return {"secp256r1": "ecdsa_p256", "secp384r1": "ecdsa_p384"}.get(
            public_key.curve.name, f"ecdsa ({public_key.curve.name})"
        )
    if isinstance(public_key, rsa.RSAPublicKey):
        return f"rsa{public_key.key_size}"
    return type(public_key).__name__


def _spki(public_key):
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _not_after(certificate):
    value = getattr(certificate, "not_valid_after_utc", None)
    if value is None:  # cryptography < 42
        value = certificate.not_valid_after.replace(tzinfo=datetime.UTC)
    return value


def _dns_names(certificate):
    from cryptography import x509

    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return [name.lower() for name in extension.value.get_values_for_type(x509.DNSName)]


def _provided(check, where, item, domains, now):
    """Parse and cross-check certificate, chain and key; return (leaf, chain, key, key_type) or None."""
    certificate, chain, private_key = (item.get(key) for key in PROVIDED_KEYS)
    missing = [key for key in ("certificate", "private_key") if not item.get(key)]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        check.line(where, f"{' and '.join(missing)} {verb} required with provider 'provided'")
        return None
    if (
        not isinstance(certificate, str)
        or not isinstance(chain or "", str)
        or not isinstance(private_key, str)
    ):
        check.line(where, "certificate, chain and private_key must be PEM text")
        return None
    try:
        from cryptography import x509
        from cryptography.exceptions import UnsupportedAlgorithm
        from cryptography.hazmat.primitives import serialization
    except ImportError:
        check.line(
            where, "checking a provided certificate needs the Python package cryptography on the controller"
        )
        return None

    blocks = pem_blocks(certificate, "CERTIFICATE")
    chain_blocks = blocks[1:] + pem_blocks(chain, "CERTIFICATE")
    if not blocks:
        check.add(where, "certificate", certificate[:40] + "...", "is not a PEM certificate")
        return None
    if chain and not pem_blocks(chain, "CERTIFICATE"):
        check.add(where, "chain", chain[:40] + "...", "is not a list of PEM certificates")
        return None
    try:
        leaf = x509.load_pem_x509_certificate(blocks[0].encode())
        parsed_chain = [x509.load_pem_x509_certificate(b.encode()) for b in chain_blocks]
    except ValueError as exc:
        check.line(where, f"certificate or chain cannot be parsed ({exc})")
        return None
    try:
        key = serialization.load_pem_private_key(private_key.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):  # the reason is not shown: it may quote the key
        check.line(where, f"private_key {HIDDEN} is not an unencrypted PEM private key")
        return None
    if _spki(key.public_key()) != _spki(leaf.public_key()):
        check.line(
            where,
            f"private_key {HIDDEN} does not match the certificate"
            " (its public key belongs to another key pair)",
        )
        return None
    expires = _not_after(leaf)
    if expires <= datetime.datetime.fromtimestamp(now, tz=datetime.UTC):
        check.line(where, f"certificate expired on {expires:%Y-%m-%d %H:%M} UTC")
    names = _dns_names(leaf)
    for index, domain in enumerate(domains):
        if domain not in names:
            check.add(
                where,
                f"domains[{index}]",
                domain,
                f"is not a name of the provided certificate (its names: {', '.join(names) or 'none'})",
            )
    issuer = leaf.issuer
    for index, ca in enumerate(parsed_chain):
        if ca.subject != issuer:
            check.line(
                where,
                f"chain certificate {index + 1} ({ca.subject.rfc4514_string()}) did not issue the certificate"
                f" before it (issued by {issuer.rfc4514_string()})",
            )
            return None
        issuer = ca.issuer
    return blocks[0], "".join(chain_blocks), private_key.strip() + "\n", key_type_of(key.public_key())


def _certificate(check, where, item, now):
    cert = {key: item.get(key) for key in KEYS}
    provider = cert["provider"] if cert["provider"] is not None else "acme"
    check.one_of(where, "provider", provider, PROVIDERS, "a provider")
    cert["provider"] = provider

    domains = cert["domains"]
    normalised = []
    if not isinstance(domains, list) or not domains:
        check.add(where, "domains", domains, "must be a non-empty list of domain names")
        domains = []
    seen = {}
    for index, domain in enumerate(domains):
        if not is_domain(domain):
            check.add(
                where, f"domains[{index}]", domain, "is not a valid domain name (RFC 1123, optional '*.')"
            )
            continue
        lower = domain.lower()
        if lower in seen:
            check.add(where, f"domains[{index}]", domain, f"is listed twice (also domains[{seen[lower]}])")
            continue
        seen[lower] = index
        if provider == "acme" and lower.startswith("*."):
            check.add(
                where,
                f"domains[{index}]",
                domain,
                "is a wildcard, which HTTP-01 cannot validate"
                " (use provider internal_ca, selfsigned or provided)",
            )
        normalised.append(lower)
    cert["domains"] = normalised

    key_type = cert["key_type"]
    check.one_of(where, "key_type", key_type, KEY_TYPES, "a key type")
    cert["key_type"] = key_type or "ecdsa_p256"

    days = cert["days"]
    if provider in DEFAULT_DAYS:
        if days is None:
            days = DEFAULT_DAYS[provider]
        check.integer(where, "days", days, 1, MAX_DAYS, strict=True)
    elif days is not None:
        check.add(where, "days", days, "applies only to providers selfsigned and internal_ca")
    cert["days"] = days if provider in DEFAULT_DAYS else None

    if provider == "provided":
        parsed = _provided(check, where, item, normalised, now)
        if parsed is not None:
            leaf_pem, chain_pem, key_pem, actual_type = parsed
            if key_type is not None and key_type != actual_type:
                check.add(where, "key_type", key_type, f"does not match the provided key ({actual_type})")
            cert.update(certificate=leaf_pem, chain=chain_pem, private_key=key_pem, key_type=actual_type)
        else:
            cert.update(certificate=None, chain=None, private_key=None)
    else:
        given = [key for key in PROVIDED_KEYS if item.get(key)]
        if given:
            check.line(
                where, f"{', '.join(given)} applies only to provider 'provided' (provider is {provider!r})"
            )
        for key in PROVIDED_KEYS:
            cert.pop(key)
    return cert


def _acme(check, directory, ca_bundle, email, webroot, renew_fraction):
    url = ACME_DIRECTORIES.get(directory, directory)
    if not isinstance(url, str) or not URL.fullmatch(url):
        check.add(
            "tls_acme_directory",
            None,
            directory,
            "is not valid (expected letsencrypt, letsencrypt_staging or an https:// URL)",
        )
    bundle = None
    if ca_bundle:
        blocks = pem_blocks(ca_bundle, "CERTIFICATE") if isinstance(ca_bundle, str) else []
        if not blocks:
            check.errors.append("tls_acme_ca_bundle: is not empty but holds no PEM certificate")
        bundle = "".join(blocks) or None
    if email and (not isinstance(email, str) or not EMAIL.fullmatch(email)):
        check.add("tls_acme_email", None, email, "is not an e-mail address")
    if not isinstance(webroot, str) or not WEBROOT.fullmatch(webroot):
        check.add("tls_acme_webroot", None, webroot, "is not an absolute path")
    check.integer("tls_renew_fraction", None, renew_fraction, 2, 100, optional=False, strict=True)
    return {
        "directory": url,
        "ca_bundle": bundle,
        "email": email or None,
        "webroot": webroot,
        "renew_fraction": renew_fraction,
    }


def _repository(path):
    """The work tree of the git repository that holds ``path``, or ``path`` itself."""
    current = path
    while True:
        if os.path.exists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return path
        current = parent


def _internal_ca(check, name, host, directory, protected_dirs):
    check.pattern("tls_internal_ca_name", None, name, NAME, "a-z, 0-9, '_', '.' and '-'", optional=False)
    if not isinstance(host, str) or not host:
        check.add("tls_internal_ca_host", None, host, "must be 'localhost' or an inventory host")
    if not isinstance(directory, str) or not CA_DIR.fullmatch(directory):
        check.add(
            "tls_internal_ca_dir",
            None,
            directory,
            "is not valid (expected an absolute path or one starting with '~/')",
        )
        return
    if host in ("localhost", "127.0.0.1"):
        real = os.path.realpath(os.path.expanduser(directory))
        for protected in protected_dirs or []:
            if not protected:
                continue
            base = _repository(os.path.realpath(os.path.expanduser(str(protected))))
            if real == base or real.startswith(base.rstrip("/") + "/"):
                check.add(
                    "tls_internal_ca_dir",
                    None,
                    directory,
                    f"lies inside {base}; the CA key must never be kept with the playbooks or the inventory"
                    " (choose a directory outside the repository)",
                )
                return


def tls_model(
    certificates,
    acme_directory="letsencrypt",
    acme_ca_bundle="",
    acme_email="",
    acme_webroot="/var/lib/groundwork/acme",
    renew_fraction=3,
    internal_ca_name="groundwork",
    internal_ca_host="localhost",
    internal_ca_dir="~/.local/share/groundwork/ca",
    key_group="groundwork-tls",
    key_group_members=None,
    protected_dirs=None,
    now=None,
    certificates_var="tls_certificates",
):
    """Validate and normalise the certificates and settings; see DOCUMENTATION."""
    if not isinstance(certificates, list):
        raise AnsibleFilterError(f"tls_model: {certificates_var} must be a list of certificates")
    check = Checker()
    result = []
    for where, item in named_items(check, certificates_var, certificates, NAME, NAME_EXPECTED):
        result.append(_certificate(check, where, item, time.time() if now is None else float(now)))
    acme = _acme(check, acme_directory, acme_ca_bundle, acme_email, acme_webroot, renew_fraction)
    _internal_ca(check, internal_ca_name, internal_ca_host, internal_ca_dir, protected_dirs)
    if not isinstance(key_group, str) or not POSIX_NAME.fullmatch(key_group):
        check.add("tls_key_group", None, key_group, "is not a valid group name")
    for index, member in enumerate(key_group_members or []):
        if not isinstance(member, str) or not POSIX_NAME.fullmatch(member) or member == "root":
            check.add(f"tls_key_group_members[{index}]", None, member, "is not a valid user name")
    return {"certificates": result, "acme": acme, "errors": check.errors}
