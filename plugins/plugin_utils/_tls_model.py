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
import ipaddress
import os
import posixpath
import re
import time

from ansible.errors import AnsibleFilterError
from ansible_collections.groundwork.server.plugins.plugin_utils._model_check import (
    CONTROL,
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
POSIX_WHAT = "a-z, 0-9, '_' and '-', starting with a-z or '_', at most 32"
LOCAL_HOSTS = ("localhost", "127.0.0.1")
# The local part of an e-mail address: RFC 5322's dot-atom without quotes and backticks, not
# starting with '-' (certbot's command line would take it for an option); the domain part is
# checked by is_domain.
EMAIL_LOCAL = re.compile(
    r"[A-Za-z0-9!#$%&*+/=?^_{|}~][A-Za-z0-9!#$%&*+/=?^_{|}~-]*(?:\.[A-Za-z0-9!#$%&*+/=?^_{|}~-]+)*"
)
EMAIL_WHAT = "an e-mail address like admin@example.org"
# An https URL of an ACME directory: host name or IP address, optional port, a path of the
# characters a URL path and query may hold unencoded (RFC 3986), no fragment.
URL = re.compile(
    r"https://(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(?P<port>[0-9]{1,5}))?(?P<path>/[A-Za-z0-9._~!$&()*+,;=:@%/?-]*)?"
)
# Characters that end or expand a token in the web servers' configuration (nginx and Apache
# serve the webroot: whitespace, quotes, backslash, ';', braces, '$' variables, '#' comments).
WEBROOT_TOKEN = re.compile(r"[\s{};\"'\\$#<>%]")
APT_CACHE_MAX = 31_536_000
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
    for key in item:
        if key not in KEYS:  # a typo would silently fall back to a default; the value may be a key
            shown = repr(key) if isinstance(key, str) else str(key)
            check.line(where, f"{shown} is not a key of a certificate (expected {', '.join(KEYS)})")
    cert = {key: item.get(key) for key in KEYS}
    provider = cert["provider"] if cert["provider"] is not None else "acme"
    if check.one_of(where, "provider", provider, PROVIDERS, "a provider") is None:
        provider = "invalid"  # the other keys are still checked, as for no provider in particular
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


def acme_url_ok(url):
    """An https:// URL with a DNS name or IP address as host and a port from 1 to 65535."""
    match = URL.fullmatch(url) if isinstance(url, str) else None
    if match is None:
        return False
    host, port = match.group("host"), match.group("port")
    if port is not None and not 1 <= int(port) <= 65535:
        return False
    if host.startswith("["):
        try:
            return isinstance(ipaddress.ip_address(host[1:-1]), ipaddress.IPv6Address)
        except ValueError:
            return False
    try:
        ipaddress.IPv4Address(host)
        return True
    except ValueError:
        return is_domain(host, wildcard=False)


def email_ok(email):
    """An e-mail address certbot and an ACME server accept: a dot-atom local part, a domain."""
    if not isinstance(email, str) or len(email) > 254 or email.count("@") != 1:
        return False
    local, domain = email.split("@")
    return bool(EMAIL_LOCAL.fullmatch(local)) and len(local) <= 64 and is_domain(domain, wildcard=False)


def _acme(check, directory, ca_bundle, email, webroot, renew_fraction):
    url = ACME_DIRECTORIES.get(directory, directory) if isinstance(directory, str) else directory
    if not acme_url_ok(url):
        check.add(
            "tls_acme_directory",
            None,
            directory,
            "is not valid (expected letsencrypt, letsencrypt_staging or an https:// URL with a host name"
            " or IP address, a port from 1 to 65535 and a path without spaces, quotes or control characters)",
        )
    bundle = None
    if ca_bundle:
        blocks = pem_blocks(ca_bundle, "CERTIFICATE") if isinstance(ca_bundle, str) else []
        if not blocks:
            check.errors.append("tls_acme_ca_bundle: is not empty but holds no PEM certificate")
        bundle = "".join(blocks) or None
    if (email is not None and not isinstance(email, str)) or (email and not email_ok(email)):
        check.add("tls_acme_email", None, email, f"is not an e-mail address (expected {EMAIL_WHAT})")
    checked = check.path("tls_acme_webroot", None, webroot, optional=False)
    if checked is not None and (checked == "/" or WEBROOT_TOKEN.search(checked)):
        check.add(
            "tls_acme_webroot",
            None,
            webroot,
            "is not valid (expected a directory other than / without whitespace, quotes, '\\',"
            " ';', '{', '}', '$', '#', '<', '>' or '%', which the web servers' configuration would"
            " read as syntax)",
        )
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


def ca_dir_ok(directory):
    """An absolute path or one under the home directory (``~/...``), normalised, without
    control characters, whitespace, quotes or backslashes; not / or ~ itself."""
    if not isinstance(directory, str) or CONTROL.search(directory) or re.search(r"[\s\"'\\]", directory):
        return False
    if directory.startswith("~/"):
        rest = directory[2:]
        return (
            bool(rest)
            and not rest.startswith("/")
            and posixpath.normpath(rest) == rest
            and not (rest == ".." or rest.startswith("../"))
        )
    return (
        directory.startswith("/")
        and not directory.startswith("//")
        and directory != "/"
        and (posixpath.normpath(directory) == directory)
    )


def _internal_ca(check, name, host, directory, protected_dirs, inventory_hosts):
    check.pattern("tls_internal_ca_name", None, name, NAME, "a-z, 0-9, '_', '.' and '-'", optional=False)
    if not isinstance(host, str) or not host:
        check.add("tls_internal_ca_host", None, host, "must be 'localhost' or an inventory host")
    elif host not in LOCAL_HOSTS and inventory_hosts is not None and host not in inventory_hosts:
        check.add(
            "tls_internal_ca_host",
            None,
            host,
            "is not a host of the inventory (expected 'localhost' or an inventory host name)",
        )
    if not ca_dir_ok(directory):
        check.add(
            "tls_internal_ca_dir",
            None,
            directory,
            "is not valid (expected a normalised absolute path or one starting with '~/', without '..',"
            " whitespace, quotes or control characters)",
        )
        return
    if host in LOCAL_HOSTS:
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
    inventory_hosts=None,
):
    """Validate and normalise the certificates and settings; see DOCUMENTATION. With
    ``inventory_hosts``, a CA host other than localhost must be one of them."""
    if not isinstance(certificates, list):
        raise AnsibleFilterError(f"tls_model: {certificates_var} must be a list of certificates")
    check = Checker()
    result = []
    for where, item in named_items(check, certificates_var, certificates, NAME, NAME_EXPECTED):
        result.append(_certificate(check, where, item, time.time() if now is None else float(now)))
    acme = _acme(check, acme_directory, acme_ca_bundle, acme_email, acme_webroot, renew_fraction)
    _internal_ca(check, internal_ca_name, internal_ca_host, internal_ca_dir, protected_dirs, inventory_hosts)
    if not isinstance(key_group, str) or not POSIX_NAME.fullmatch(key_group):
        check.add("tls_key_group", None, key_group, f"is not a valid group name (expected {POSIX_WHAT})")
    if key_group_members is not None and not isinstance(key_group_members, list):
        check.add("tls_key_group_members", None, key_group_members, "must be a list of user names")
        key_group_members = []
    for index, member in enumerate(key_group_members or []):
        if not isinstance(member, str) or not POSIX_NAME.fullmatch(member) or member == "root":
            check.add(
                f"tls_key_group_members[{index}]",
                None,
                member,
                f"is not a valid user name other than root (expected {POSIX_WHAT})",
            )
    return {"certificates": result, "acme": acme, "errors": check.errors}
