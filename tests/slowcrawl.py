"""A stand-in crawl child for the executor tests: `python -m tests.slowcrawl RUN_ID`. It starts a
grandchild (as the real child starts Scrapy), prints the grandchild's pid, then sleeps; with run id
0 it prints a summary and exits at once."""

from __future__ import annotations

import json
import subprocess
import sys
import time

if __name__ == "__main__":
    run_id = int(sys.argv[1])
    if run_id == 0:
        print(json.dumps({"event": "summary", "run_id": 0, "status": "ok", "pages": 3}), flush=True)
        sys.exit(0)
    grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    print(json.dumps({"event": "grandchild", "pid": grandchild.pid}), flush=True)
    time.sleep(600)
