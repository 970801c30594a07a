"""`make run`: start torc-server on a fresh embedded database, run the diamond example, print its results.

Everything it starts, it stops, also on Ctrl-C.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
EXAMPLE = ROOT / "examples" / "diamond_workflow.yaml"


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="torc-quickstart-"))
    port = os.environ.get("TORC_PORT") or str(_free_port())
    url = f"http://127.0.0.1:{port}/torc-service/v1"
    env = {**os.environ, "TORC_API_URL": url, "PATH": f"{BIN}:{os.environ['PATH']}"}
    print(f"Starting torc-server on {url} (embedded database in {work / 'db'}) ...", flush=True)
    server = subprocess.Popen([str(BIN / "torc-server"), "--port", port, "--data-dir", str(work / "db")], env=env)
    try:
        _wait_for(url, env, server)
        shutil.copy(EXAMPLE, work / EXAMPLE.name)
        (work / "inputs.json").write_text(json.dumps({"a": [1, 2, 3], "b": [10, 20, 30]}))
        print(f"\n$ torc run {EXAMPLE.name}   (in {work})", flush=True)
        run = subprocess.run([str(BIN / "torc"), "run", EXAMPLE.name], cwd=work, env=env)
        workflow_id = _last_workflow(env)
        for title, args in (("jobs", ["jobs", "list", workflow_id]), ("results", ["results", "list", workflow_id])):
            print(f"\n$ torc {' '.join(args)}", flush=True)
            subprocess.run([str(BIN / "torc"), *args], cwd=work, env=env, check=True)
        print(f"\n$ cat work/result.json\n{(work / 'work' / 'result.json').read_text()}")
        return run.returncode
    finally:
        server.terminate()
        server.wait(60)
        shutil.rmtree(work, ignore_errors=True)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, env: dict, server: subprocess.Popen) -> None:
    for _ in range(600):
        if server.poll() is not None:
            raise SystemExit(f"torc-server exited with code {server.returncode}")
        if subprocess.run([str(BIN / "torc"), "ping"], env=env, capture_output=True).returncode == 0:
            return
        time.sleep(0.1)
    raise SystemExit(f"torc-server did not answer at {url}")


def _last_workflow(env: dict) -> str:
    out = subprocess.run([str(BIN / "torc"), "workflows", "list", "-f", "json"], env=env, capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    return str(json.loads(out)[-1]["id"])


if __name__ == "__main__":
    sys.exit(main())
