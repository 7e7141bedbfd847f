#!/usr/bin/python
# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: internal_ca
short_description: Create an internal certificate authority once, safely against concurrent runs
version_added: 0.1.0
description:
  - Makes sure the directory O(path) holds an internal CA, C(ca.key) and C(ca.crt), creating both
    in one module run when they are missing. An existing CA is never touched.
  - The key is ECDSA P-384 and never leaves O(path) (mode C(0600), the directory C(0700), owned by
    the user that runs the module); the certificate is self-signed with SHA-384 and says what a CA
    for server certificates needs and nothing more - C(CA:TRUE, pathlen:0) and the key usages
    C(keyCertSign, cRLSign), both critical - with a subject key identifier.
  - Runs that start at the same time (AWX job slices, several controllers) may all find no CA;
    each makes one in a directory of its own inside O(path), and only the first to link its key
    in place moves its certificate after it, so the CA exists once C(ca.crt) does. The others
    wait for that certificate (at most 30 seconds) and keep it. A key left without a
    certificate (a run killed in between) never signed anything and is replaced.
  - This is the internal CA of the P(groundwork.server.tls#role) role, which signs host
    certificates with it on the same host.
author: groundwork developers (@groundwork)
requirements:
  - cryptography (Debian's C(python3-cryptography)) on the host that runs the module
attributes:
  check_mode:
    support: full
    description: Reports whether a real run would create the CA, and writes nothing.
  diff_mode:
    support: none
    description: The key is secret and the certificate new; the module shows neither.
  idempotent:
    support: full
    description: Once the CA exists, every run finds it and changes nothing.
options:
  path:
    description: The CA's directory; C(~) is the home of the user that runs the module.
    type: path
    required: true
  common_name:
    description: The CA's common name, its subject and issuer (1 to 64 printable characters).
    type: str
    required: true
  days:
    description: How long the CA certificate is valid, from now (1 to 36500 days).
    type: int
    required: true
"""

EXAMPLES = r"""
- name: Create the internal CA on the controller, as the user that runs Ansible
  groundwork.server.internal_ca:
    path: ~/.local/share/groundwork/ca
    common_name: Example internal CA
    days: 3650
  delegate_to: localhost
  run_once: true
  become: false
"""

RETURN = r"""
state:
  description:
    - V(present) when the CA existed already, V(created) when this run made it, V(kept) when a
      concurrent run made it first (this run's candidate is discarded), V(replaced) when a key
      without a certificate was found and replaced.
  returned: always
  type: str
  sample: created
certificate:
  description:
    - The CA certificate (PEM) in O(path) after the run, also when a concurrent run made it.
    - Only the certificate; the key never leaves O(path).
  returned: when the CA exists after the run (not when check mode only tells it would be created)
  type: str
"""

import datetime
import os
import shutil
import tempfile
import time
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
except ImportError:
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_ERROR = traceback.format_exc()
else:
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_ERROR = None

ARGUMENTS = {
    "path": {"type": "path", "required": True},
    "common_name": {"type": "str", "required": True},
    "days": {"type": "int", "required": True},
}
KEY = "ca.key"
CERTIFICATE = "ca.crt"
WAIT_FOR_OTHER_RUN = 30
# A hundred years: far beyond any CA's life, and well inside what a certificate can say.
MAX_DAYS = 36500


class CAError(Exception):
    pass


def _has_certificate(directory):
    try:
        return os.path.getsize(os.path.join(directory, CERTIFICATE)) > 0
    except OSError:
        return False


def exists(directory):
    return _has_certificate(directory) and os.path.exists(os.path.join(directory, KEY))


def _write(path, data, mode):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def check_input(common_name, days):
    if not common_name or len(common_name) > 64 or not common_name.isprintable():
        raise CAError(
            f"common_name {common_name!r}: must have 1 to 64 printable characters (no control characters)"
        )
    if not 1 <= days <= MAX_DAYS:
        raise CAError(f"days {days}: must be at least 1 and at most {MAX_DAYS}")


def build(common_name, days, now=None):
    """A new key and the CA certificate it signs, both PEM."""
    check_input(common_name, days)
    now = now or datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    usage = x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA384())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM)


def place(directory, new, wait=WAIT_FOR_OTHER_RUN):
    """Put the candidate in ``new`` in place unless another run did first; says which happened."""
    key, certificate = os.path.join(directory, KEY), os.path.join(directory, CERTIFICATE)
    try:
        os.link(os.path.join(new, KEY), key)
    except FileExistsError:
        deadline = time.monotonic() + wait
        while not _has_certificate(directory) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _has_certificate(directory):
            return "kept"
        os.replace(os.path.join(new, KEY), key)
        os.replace(os.path.join(new, CERTIFICATE), certificate)
        return "replaced"
    os.replace(os.path.join(new, CERTIFICATE), certificate)
    return "created"


def certificate_of(directory):
    """The CA certificate in place (the tls role plans with it without reading it again)."""
    with open(os.path.join(directory, CERTIFICATE), encoding="utf-8") as handle:
        return handle.read()


def run(params, check_mode, wait=WAIT_FOR_OTHER_RUN):
    directory = params["path"]
    if exists(directory):
        return {
            "changed": False,
            "state": "present",
            "msg": f"the internal CA in {directory} exists",
            "certificate": certificate_of(directory),
        }
    check_input(params["common_name"], params["days"])
    if check_mode:
        return {"changed": True, "state": "created", "msg": f"would create the internal CA in {directory}"}
    key_pem, certificate_pem = build(params["common_name"], params["days"])
    os.makedirs(directory, mode=0o700, exist_ok=True)
    os.chmod(directory, 0o700)
    new = tempfile.mkdtemp(prefix=".new-", dir=directory)
    try:
        _write(os.path.join(new, KEY), key_pem, 0o600)
        _write(os.path.join(new, CERTIFICATE), certificate_pem, 0o644)
        state = place(directory, new, wait)
    finally:
        shutil.rmtree(new, ignore_errors=True)
    if state == "kept":
        return {
            "changed": False,
            "state": state,
            "msg": f"another run created the internal CA in {directory} first",
            "certificate": certificate_of(directory),
        }
    return {
        "changed": True,
        "state": state,
        "msg": f"internal CA {state} in {directory}",
        "certificate": certificate_of(directory),
    }


def main():
    module = AnsibleModule(argument_spec=ARGUMENTS, supports_check_mode=True)
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(
            msg=missing_required_lib("cryptography (python3-cryptography)"), exception=CRYPTOGRAPHY_ERROR
        )
    try:
        result = run(module.params, module.check_mode)
    except CAError as exc:
        module.fail_json(msg=str(exc))
    except OSError as exc:
        module.fail_json(msg=f"creating the internal CA in {module.params['path']} failed: {exc}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
