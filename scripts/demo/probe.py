"""Ask the demo's balancer what a user would see, in one process (run by summary.yml).

Sends a few HTTPS requests through the published port, verified against the demo CA, one
plain HTTP request that must only redirect to HTTPS, and reads the certificate the balancer
presents. Prints one JSON object; exits 1 with the reason when an answer is not what the
demo promises.
"""

from __future__ import annotations

import http.client
import json
import ssl
import sys
import urllib.parse


def _name(rdns) -> str:
    return ", ".join(f"{key}={value}" for rdn in rdns for key, value in rdn)


def probe(https_url: str, plain_url: str, ca_file: str, requests: int) -> dict:
    https = urllib.parse.urlsplit(https_url)
    plain = urllib.parse.urlsplit(plain_url)
    context = ssl.create_default_context(cafile=ca_file)
    answers = []
    while len(answers) < requests:
        # A new connection each time, as the demo's users' clients would: the balancer
        # spreads connections, not requests within one.
        conn = http.client.HTTPSConnection(https.hostname, https.port, context=context, timeout=10)
        try:
            conn.request("GET", https.path or "/")
            # (before the answer: a server that closes after it leaves no socket to ask)
            certificate = conn.sock.getpeercert()
            response = conn.getresponse()
            answers.append({"status": response.status, "body": response.read().decode().strip()})
        finally:
            conn.close()
    bad = [a for a in answers if a["status"] != 200]
    if bad:
        raise SystemExit(f"the balancer answered {bad[0]['status']}: {bad[0]['body'][:200]}")

    path = "/some/path?x=1"
    conn = http.client.HTTPConnection(plain.hostname, plain.port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        location = response.getheader("Location", "")
    finally:
        conn.close()
    expected = https_url.rstrip("/") + path
    if response.status != 308 or location != expected or len(body) >= 200:
        answer = f"{response.status} to {location or '-'}"
        raise SystemExit(f"plain HTTP answered {answer} (expected 308 to {expected})")

    return {
        "requests": answers,
        "plain": {"status": response.status, "location": location},
        "certificate": {
            "subject": _name(certificate["subject"]),
            "issuer": _name(certificate["issuer"]),
            "not_after": certificate["notAfter"],
        },
    }


def main(argv: list[str]) -> int:
    https_url, plain_url, ca_file = argv[1:4]
    print(json.dumps(probe(https_url, plain_url, ca_file, requests=6)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
