"""`make bench`: run every benchmark and print each one's JSON line.

MariaDB figures use a private mariadbd (as the tests do) when the binary is installed.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from benchmarks import store_throughput
from tests.support.services import MariaDBServer, run_sql


def _mariadb_run() -> dict[str, object] | None:
    try:
        server = MariaDBServer(Path(tempfile.mkdtemp(prefix="bench-mariadb-")))
    except BaseException:
        return None
    server.start()
    try:
        for name in ("batched", "baseline"):
            run_sql(server.root_url(), f"CREATE DATABASE {name}")
        url = server.root_url("{name}")
        return store_throughput.run(url, events=5000, batch=500, baseline_events=500)
    finally:
        server.stop()


def main() -> None:
    results = [store_throughput.run(None, events=5000, batch=500, baseline_events=1000)]
    mariadb = _mariadb_run()
    if mariadb is None:
        print("mariadbd not installed: MariaDB figures skipped")
    else:
        results.append(mariadb)
    for result in results:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
