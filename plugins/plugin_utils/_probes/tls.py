# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The probe of groundwork.server.tls: ``inspect(args, core)`` runs on the host inside the
shared probe library (plugin_utils/_host_probe.py), which answers packages, units and file
states itself.

args: {"dir", "names", "ca", "certbot_live", "trust_dir", "trust_prefix", "group", "members",
"hook_dir"}. Read-only.
Certificates and keys are parsed with the Python package cryptography when it is installed
(it is after the role's package step; only a check-mode run on a fresh host goes without).
A private key is only loaded to compare its public half with the certificate's; nothing
secret is returned.
"""

import binascii
import datetime
import grp
import hashlib
import importlib.util
import os
import pwd
import types

_LOADED = {}


def _c():
    """cryptography's modules, imported on first use: they cost more than the rest of the
    inspection (a host that only trusts the internal CA never loads them)."""
    if not _LOADED:
        from cryptography import exceptions, x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

        _LOADED.update(
            x509=x509,
            exceptions=exceptions,
            hashes=hashes,
            serialization=serialization,
            ec=ec,
            padding=padding,
            rsa=rsa,
        )
    return types.SimpleNamespace(**_LOADED)


def attributes(core, path):
    """{"kind", "owner", "group", "mode"} of a path, or None when it does not exist."""
    state = core.file_state(path)
    kind = state.get("state")
    if kind in ("absent", "error"):
        return None
    if kind not in ("file", "directory"):
        return {"kind": "other", "owner": None, "group": None, "mode": None}
    return {"kind": kind, "owner": state["owner"], "group": state["group"], "mode": state["mode"]}


def key_type(public_key):
    if isinstance(public_key, _c().ec.EllipticCurvePublicKey):
        return {"secp256r1": "ecdsa_p256", "secp384r1": "ecdsa_p384"}.get(public_key.curve.name, "other")
    if isinstance(public_key, _c().rsa.RSAPublicKey):
        return f"rsa{public_key.key_size}"
    return "other"


def spki(public_key):
    return public_key.public_bytes(
        _c().serialization.Encoding.DER, _c().serialization.PublicFormat.SubjectPublicKeyInfo
    )


def signed_by(certificate, issuer):
    """Whether ``issuer`` (a certificate) signed ``certificate``."""
    if certificate.issuer != issuer.subject:
        return False
    public_key = issuer.public_key()
    try:
        if isinstance(public_key, _c().ec.EllipticCurvePublicKey):
            public_key.verify(
                certificate.signature,
                certificate.tbs_certificate_bytes,
                _c().ec.ECDSA(certificate.signature_hash_algorithm),
            )
        elif isinstance(public_key, _c().rsa.RSAPublicKey):
            public_key.verify(
                certificate.signature,
                certificate.tbs_certificate_bytes,
                _c().padding.PKCS1v15(),
                certificate.signature_hash_algorithm,
            )
        else:
            return False
    except (_c().exceptions.InvalidSignature, _c().exceptions.UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return True


def utc(certificate, name):
    value = getattr(certificate, f"{name}_utc", None)
    if value is None:  # cryptography < 42 (Debian 12)
        value = getattr(certificate, name).replace(tzinfo=datetime.UTC)
    return int(value.timestamp())


def certificate_info(pem, ca):
    try:
        certificate = _c().x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        return None
    try:
        sans = certificate.extensions.get_extension_for_class(_c().x509.SubjectAlternativeName)
        names = [name.lower() for name in sans.value.get_values_for_type(_c().x509.DNSName)]
    except _c().x509.ExtensionNotFound:
        names = []
    return {
        "sans": names,
        "key_type": key_type(certificate.public_key()),
        "not_before": utc(certificate, "not_valid_before"),
        "not_after": utc(certificate, "not_valid_after"),
        "serial": f"{certificate.serial_number:X}",
        "issuer": certificate.issuer.rfc4514_string(),
        "subject": certificate.subject.rfc4514_string(),
        "self_signed": signed_by(certificate, certificate),
        "issued_by_ca": None if ca is None else signed_by(certificate, ca()),
        "fingerprint": hashlib.sha256(spki(certificate.public_key())).hexdigest(),
        "sha256": binascii.hexlify(certificate.fingerprint(_c().hashes.SHA256())).decode(),
    }


def key_info(core, path, certificate_pem, cryptography):
    info = attributes(core, path)
    if info is None:
        return None
    info["type"] = info["matches"] = None
    if not cryptography:
        return info
    try:
        with open(path, "rb") as handle:
            key = _c().serialization.load_pem_private_key(handle.read(), password=None)
    except (OSError, ValueError, TypeError, _c().exceptions.UnsupportedAlgorithm):
        return info
    info["type"] = key_type(key.public_key())
    if certificate_pem:
        try:
            certificate = _c().x509.load_pem_x509_certificate(certificate_pem.encode())
        except ValueError:
            return info
        info["matches"] = spki(certificate.public_key()) == spki(key.public_key())
    return info


def same_certificate(first, second):
    return bool(first) and bool(second) and first.strip() == second.strip()


def inspect_certificate(core, args, name, ca, cryptography):
    directory = os.path.join(args["dir"], name)
    cert = core.read(os.path.join(directory, "cert.pem"))
    live = core.read(os.path.join(args["certbot_live"], name, "cert.pem"))
    return {
        "dir": attributes(core, directory),
        "cert": cert,
        "chain": core.read(os.path.join(directory, "chain.pem")),
        "fullchain": os.path.exists(os.path.join(directory, "fullchain.pem")),
        "placeholder": os.path.exists(os.path.join(directory, args["placeholder"])),
        "key": key_info(core, os.path.join(directory, "privkey.pem"), cert, cryptography),
        "info": certificate_info(cert, ca) if cert and cryptography else None,
        "acme_issued": same_certificate(cert, live),
    }


def _ca(pem):
    """The internal CA's certificate, parsed on first use."""
    parsed = []

    def get():
        if not parsed:
            parsed.append(_c().x509.load_pem_x509_certificate(pem.encode()))
        return parsed[0]

    return get


def inspect(args, core):
    cryptography = importlib.util.find_spec("cryptography") is not None
    ca = _ca(args["ca"]) if args.get("ca") else None
    try:
        group = grp.getgrnam(args["group"])
        group_info = {"exists": True, "members": sorted(group.gr_mem)}
    except KeyError:
        group_info = {"exists": False, "members": []}
    users = {}
    for member in args.get("members") or []:
        try:
            pwd.getpwnam(member)
            users[member] = True
        except KeyError:
            users[member] = False
    trust = core.dir_entries(args["trust_dir"])
    trust_files = {
        os.path.join(args["trust_dir"], name): core.file_state(os.path.join(args["trust_dir"], name))
        for name, kind in trust.items()
        if name.startswith(args["trust_prefix"]) and name.endswith(".crt") and kind in ("file", "link")
    }
    # the certificates whose consumers registered renewal hooks (files or links in <name>.d)
    hooked = [
        name
        for name in args["names"]
        if args.get("hook_dir")
        and any(
            kind in ("file", "link")
            for kind in core.dir_entries(os.path.join(args["hook_dir"], f"{name}.d")).values()
        )
    ]
    return {
        "cryptography": cryptography,
        "hooked": hooked,
        "certificates": {
            name: inspect_certificate(core, args, name, ca, cryptography) for name in args["names"]
        },
        "group": group_info,
        "users": users,
        "trust_files": trust_files,
    }
