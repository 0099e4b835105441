"""Restart the dashboard when /_stcore/health does not answer "ok" three times in a row.

Run by ambon-dashboard-health.timer as root (it calls systemctl); standard library only.
"""

import subprocess
import sys
import time
import urllib.request

URL = "http://127.0.0.1:8501/_stcore/health"


def healthy(url: str = URL, tries: int = 3) -> bool:
    """True when one of ``tries`` requests, 5 s apart, answers "ok"."""
    for attempt in range(tries):
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                if response.read().strip() == b"ok":
                    return True
        except OSError:
            pass
        if attempt < tries - 1:
            time.sleep(5)  # a retry interval, not a wait for a condition
    return False


if __name__ == "__main__":
    if not healthy(sys.argv[1] if len(sys.argv) > 1 else URL):
        subprocess.run(["systemctl", "restart", "ambon-dashboard.service"], check=False)
        sys.exit(1)
