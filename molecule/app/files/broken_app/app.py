"""A release that cannot start: the role must keep the previous one running."""

import sys

sys.exit("broken release: exits at once")
