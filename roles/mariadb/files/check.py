# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check the candidate MariaDB configuration with the server's own parser; exit 1 with its message.

Usage: python3 /usr/local/sbin/groundwork-mariadb-check [--set STATEMENT]
(installed by groundwork.server.mariadb and run by its groundwork.server.service_config
transaction after the candidate files are in place, and by the certificate renewal hook
before FLUSH SSL).

1. ``mariadbd --help --verbose`` reads /etc/mysql/my.cnf with everything it includes, as the
   server would at start. An unknown variable makes it fail; a value it cannot use (a bad
   suffix, a word outside the choices) is only an ``[ERROR]`` line with exit status 0, and a
   number out of range a warning that it was "adjusted": all three reject the candidate.
2. The certificate and key the configuration names: readable by the mysql user, and the key
   the certificate's (a server that cannot load them starts without TLS, which
   require_secure_transport would turn into refusing every remote client).
3. With ``--set``: the role's one SET GLOBAL statement for the file's dynamic variables, run by
   the server as root through its socket. The server checks every assignment of a SET before
   it applies any, so a value only the running server can judge (an unknown storage engine)
   rejects the candidate - the transaction puts the previous file back - and changes nothing.
"""

import re
import subprocess
import sys

SERVER = "/usr/sbin/mariadbd"
RUNUSER = ["/usr/sbin/runuser", "-u", "mysql", "--"]
OPENSSL = "/usr/bin/openssl"
CLIENT = ["/usr/bin/mariadb", "--no-defaults", "--socket=/run/mysqld/mysqld.sock", "--user=root"]
REJECT = re.compile(r"\[ERROR\]|option '[^']+': .* adjusted to ")


def run(argv, **kwargs):
    # Fixed programs by absolute path; the arguments come from the configuration.
    return subprocess.run(argv, capture_output=True, text=True, check=False, cwd="/", **kwargs)  # noqa: S603


def variables(text):
    """{name: value} of the table ``--help --verbose`` prints after its option list."""
    values, table = {}, False
    for line in text.splitlines():
        if line.startswith("Variables (--variable-name=value)"):
            table = True
            continue
        if table and line.strip() and not line.startswith("-"):
            name, _sep, value = line.partition(" ")
            values[name] = value.strip()
    return values


def public_key(argv, path):
    done = run([OPENSSL, *argv, "-in", path])
    return done.stdout if done.returncode == 0 else None


def certificate_problems(values):
    cert, key = values.get("ssl-cert", ""), values.get("ssl-key", "")
    if cert in ("", "(No default value)") or key in ("", "(No default value)"):
        return []
    problems = [
        f"{path} is not readable by the mysql user"
        for path in (cert, key)
        if run([*RUNUSER, "/usr/bin/test", "-r", path]).returncode != 0
    ]
    if problems:
        return problems
    # (The key is only ever read as root here, and its public half compared.)
    cert_key, own_key = public_key(["x509", "-noout", "-pubkey"], cert), public_key(["pkey", "-pubout"], key)
    if cert_key is None or own_key is None or cert_key != own_key:
        return [f"{key} is not the private key of the certificate {cert}"]
    return []


def main():
    parsed = run([SERVER, "--help", "--verbose", "--user=mysql"])
    rejected = [line for line in (parsed.stderr + parsed.stdout).splitlines() if REJECT.search(line)]
    if parsed.returncode != 0 or rejected:
        sys.stderr.write("\n".join(rejected) or parsed.stderr or f"mariadbd exited with {parsed.returncode}")
        sys.stderr.write("\n")
        return 1
    problems = certificate_problems(variables(parsed.stdout))
    if problems:
        sys.stderr.write("\n".join(problems) + "\n")
        return 1
    if sys.argv[1:2] == ["--set"]:
        applied = run(CLIENT, input=sys.argv[2])
        if applied.returncode != 0:
            sys.stderr.write(f"the running server refused {sys.argv[2]}: {applied.stderr.strip()}\n")
            return 1
    return 0


sys.exit(main())
