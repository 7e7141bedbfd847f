"""Stand-in for the get-pip.py bootstrap script that ansible-test downloads.

ansible-test runs it as ``python get_pip.py [pip options] [--no-setuptools] [--no-wheel]
pip==X.Y`` inside a new virtual environment created without pip. The download host is
not reachable here, so this script bootstraps pip from the standard library's ensurepip
and then lets that pip install the requested version from the package index.
"""

import subprocess
import sys

GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}


def main() -> int:
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
    subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"], check=True)
    return subprocess.run([sys.executable, "-m", "pip", "install", *args], check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
