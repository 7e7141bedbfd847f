# Read-only: what groundwork.server.app finds on the host, as JSON on stdout.
#   python3 -c "$(cat inspect.py)" APP_DIR UNIT
import json
import os
import subprocess
import sys

app_dir, unit = sys.argv[1], sys.argv[2]
releases_dir = os.path.join(app_dir, "releases")
try:
    releases = sorted(n for n in os.listdir(releases_dir) if os.path.isdir(os.path.join(releases_dir, n)))
except FileNotFoundError:
    releases = []
current = None
link = os.path.join(app_dir, "current")
if os.path.islink(link):
    current = os.path.basename(os.readlink(link).rstrip("/"))
try:
    with open(os.path.join(app_dir, "history"), encoding="utf-8") as handle:
        history = [line.strip() for line in handle if line.strip()]
except FileNotFoundError:
    history = []
venvs = [n for n in releases if os.path.isdir(os.path.join(releases_dir, n, ".venv"))]
active = subprocess.run(["/usr/bin/systemctl", "is-active", "--quiet", unit], check=False).returncode == 0  # noqa: S603
print(
    json.dumps(
        {"current": current, "releases": releases, "history": history, "venvs": venvs, "active": active}
    )
)
