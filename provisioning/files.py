"""Writing generated files: atomically, and private (0600) when they hold a secret."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

PRIVATE = 0o600
PUBLIC = 0o644
EXECUTABLE = 0o755


def write_file(path: Path, data: str | bytes, mode: int = PUBLIC) -> Path:
    """Write `data` to `path` through a temporary file and rename, so a reader (the broker on
    SIGHUP) never sees half a file. The mode is set before any byte is written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode() if isinstance(data, str) else data
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path


def write_private(path: Path, data: str | bytes) -> Path:
    return write_file(path, data, PRIVATE)
