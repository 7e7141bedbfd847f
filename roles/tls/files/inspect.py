# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Print what groundwork.server.tls needs to know about the host, as JSON.

Argument: one JSON object {"dir", "names", "ca", "certbot_live", "trust_dir", "group",
"members", "units", "packages"}. Read-only. Certificates and keys are parsed with the
Python package cryptography when it is installed (it is after the role's package step;
only a check-mode run on a fresh host goes without). A private key is only loaded to
compare its public half with the certificate's; nothing secret is printed.
"""

import binascii
import datetime
import glob
import grp
import hashlib
import importlib.util
import json
import os
import pwd
import stat
import subprocess
import sys
import types

# The package cryptography is imported only when there is a certificate or key to read:
# it costs more than the rest of the inspection (a host that only trusts the internal CA
# never loads it).
CRYPTOGRAPHY = importlib.util.find_spec("cryptography") is not None
_LOADED = {}


def _c():
    """cryptography's modules, imported on first use."""
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


def read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return None


def attributes(path):
    try:
        info = os.lstat(path)
    except OSError:
        return None
    try:
        owner = pwd.getpwuid(info.st_uid).pw_name
    except KeyError:
        owner = str(info.st_uid)
    try:
        group = grp.getgrgid(info.st_gid).gr_name
    except KeyError:
        group = str(info.st_gid)
    kind = "directory" if stat.S_ISDIR(info.st_mode) else "file" if stat.S_ISREG(info.st_mode) else "other"
    return {"kind": kind, "owner": owner, "group": group, "mode": f"{stat.S_IMODE(info.st_mode):04o}"}


class Lazy:
    """A value computed on first use (the internal CA's certificate, parsed only when needed)."""

    def __init__(self, make):
        self._make = make
        self._value = None

    @property
    def value(self):
        if self._value is None:
            self._value = self._make()
        return self._value


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
        "issued_by_ca": None if ca is None else signed_by(certificate, ca.value),
        "fingerprint": hashlib.sha256(spki(certificate.public_key())).hexdigest(),
        "sha256": binascii.hexlify(certificate.fingerprint(_c().hashes.SHA256())).decode(),
    }


def key_info(path, certificate_pem):
    info = attributes(path)
    if info is None:
        return None
    info["type"] = info["matches"] = None
    if not CRYPTOGRAPHY:
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


def inspect_certificate(args, name, ca):
    directory = os.path.join(args["dir"], name)
    cert = read(os.path.join(directory, "cert.pem"))
    live = read(os.path.join(args["certbot_live"], name, "cert.pem"))
    return {
        "dir": attributes(directory),
        "cert": cert,
        "chain": read(os.path.join(directory, "chain.pem")),
        "fullchain": os.path.exists(os.path.join(directory, "fullchain.pem")),
        "placeholder": os.path.exists(os.path.join(directory, ".placeholder")),
        "key": key_info(os.path.join(directory, "privkey.pem"), cert),
        "info": certificate_info(cert, ca) if cert and CRYPTOGRAPHY else None,
        "acme_issued": same_certificate(cert, live),
    }


def systemctl(verb, unit):
    try:
        # A fixed program by absolute path; the unit names come from the role.
        result = subprocess.run(  # noqa: S603
            ["/usr/bin/systemctl", verb, unit], capture_output=True, text=True, check=False
        )
    except OSError:
        return "unknown"
    return result.stdout.strip() or "unknown"


def packages(names):
    """The dpkg state of each package ("installed" when it is)."""
    states = dict.fromkeys(names, "not-installed")
    try:
        # A fixed program by absolute path; the package names come from the role.
        result = subprocess.run(  # noqa: S603
            ["/usr/bin/dpkg-query", "--show", "--showformat=${Package} ${db:Status-Status}\\n", *names],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return states
    for line in result.stdout.splitlines():
        name, _sep, state = line.partition(" ")
        if name in states:
            states[name] = state
    return states


def main():
    args = json.loads(sys.argv[1])
    ca = Lazy(lambda: _c().x509.load_pem_x509_certificate(args["ca"].encode())) if args.get("ca") else None
    try:
        group = grp.getgrnam(args["group"])
        group_info = {"exists": True, "members": sorted(group.gr_mem)}
    except KeyError:
        group_info = {"exists": False, "members": []}
    users = {}
    for member in args["members"]:
        try:
            pwd.getpwnam(member)
            users[member] = True
        except KeyError:
            users[member] = False
    result = {
        "cryptography": CRYPTOGRAPHY,
        "packages": packages(args.get("packages", [])),
        "certificates": {name: inspect_certificate(args, name, ca) for name in args["names"]},
        "group": group_info,
        "users": users,
        "trust_files": sorted(glob.glob(os.path.join(args["trust_dir"], "groundwork-*.crt"))),
        "units": {
            unit: {"enabled": systemctl("is-enabled", unit), "active": systemctl("is-active", unit)}
            for unit in args["units"]
        },
    }
    print(json.dumps(result, sort_keys=True))


main()
