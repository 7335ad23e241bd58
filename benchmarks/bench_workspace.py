"""The workspace under load: N returns uploaded by C concurrent clients to `xltool serve`.

    python benchmarks/bench_workspace.py [--returns 500] [--clients 4] [--db URL | --throwaway-postgres]

1. Makes a workspace (signed with the samples' key) with a batch from samples/roster.csv, and
   N distinct returns: the Wuhan sample with a different zip comment each (other bytes, same
   content), so each is a new version of that unit's return.
2. Starts `xltool serve --no-browser` in its own process on a free port of 127.0.0.1.
3. C clients upload the N files over HTTP, one file per request (as the page does), each
   timing its request: upload to verdict (received, checked, stored, answered).
4. Prints JSON: every return recorded exactly once (rows in the store = N, none lost, none
   doubled), files per second, the median and 95th percentile upload-to-verdict time, and the
   server's resident memory (VmRSS) after the first tenth and at the end (flat = not growing
   with the number of returns).

Traffic goes to 127.0.0.1 only, and the run is bounded by N.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(returns: int, clients: int, db: str | None = None) -> dict:
    import httpx

    from workspace_help import ROSTER, WUHAN, new_workspace_folder, serve, variant
    from xltool.workspace.service import Workspace
    from xltool.workspace.store import Return

    with tempfile.TemporaryDirectory(prefix="xltool-bench-ws-") as tmp:
        folder = new_workspace_folder(Path(tmp))
        ws = Workspace(folder, db)
        ws.create_campaign(2021, "", "", "roster.csv", ROSTER.read_bytes())
        ws.close()
        original = WUHAN.read_bytes()
        files = [variant(original, n) for n in range(returns)]
        with serve(folder, *(["--db", db] if db else [])) as (server, base):
            times: list[float] = []
            kinds: list[str] = []
            rss: dict[str, float] = {"start": rss_mb(server.pid)}
            lock = threading.Lock()
            tenth = max(1, returns // 10)

            def client(k: int) -> None:
                with httpx.Client(base_url=base, timeout=120) as http:
                    http.get("/")
                    token = http.cookies["xltool_csrf"]
                    for n in range(k, returns, clients):
                        began = time.perf_counter()
                        response = http.post("/c/1/upload", data={"csrf_token": token}, files={"files": (f"{n}.xlsx", files[n])},
                                             headers={"accept": "application/json"})
                        elapsed = time.perf_counter() - began
                        outcomes = response.json()["outcomes"]
                        with lock:
                            times.append(elapsed)
                            kinds.extend(o["kind"] for o in outcomes)
                            if len(times) == tenth:
                                rss["after_tenth"] = rss_mb(server.pid)

            began = time.perf_counter()
            threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - began
            rss["end"] = rss_mb(server.pid)
        ws = Workspace(folder, db)
        stored = ws.store.count(Return)
        ws.close()
    times.sort()
    return {
        "returns": returns,
        "clients": clients,
        "recorded": kinds.count("recorded"),
        "rows_in_store": stored,
        "all_recorded_once": stored == returns and kinds.count("recorded") == returns,
        "seconds": round(wall, 1),
        "files_per_second": round(returns / wall, 2),
        "upload_to_verdict_median_s": round(statistics.median(times), 3),
        "upload_to_verdict_p95_s": round(times[int(len(times) * 0.95) - 1], 3),
        "server_rss_mb": {k: round(v, 1) for k, v in rss.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--returns", type=int, default=500)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--db", help="a PostgreSQL URL instead of the workspace's SQLite file")
    parser.add_argument("--throwaway-postgres", action="store_true", help="start a PostgreSQL cluster in a temporary folder and use it")
    args = parser.parse_args()
    if args.throwaway_postgres:
        from workspace_help import postgres_cluster

        with postgres_cluster() as url:
            figures = run(args.returns, args.clients, url)
    else:
        figures = run(args.returns, args.clients, args.db)
    print(json.dumps(figures, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
