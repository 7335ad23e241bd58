"""Results (or rows) parked on disk while a batch is checked, read back as often as needed."""

from __future__ import annotations

import pickle
import tempfile
from typing import Any, Iterator


class Spool:
    """Items written one after another to an unnamed temporary file (removed by the system
    whatever happens, even on SIGKILL) and read back in the same order, each time it is
    iterated. Only what is being written or read is in memory."""

    def __init__(self, folder: str | None = None):
        self.fh = tempfile.TemporaryFile(prefix="xltool-", dir=folder)
        self.count = 0
        self._end = 0

    def add(self, item: Any) -> None:
        self.fh.seek(self._end)
        pickle.dump(item, self.fh, protocol=pickle.HIGHEST_PROTOCOL)
        self._end = self.fh.tell()
        self.count += 1

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[Any]:
        self.fh.flush()
        position = 0
        for _ in range(self.count):
            self.fh.seek(position)  # another reader may have moved the file position
            item = pickle.load(self.fh)
            position = self.fh.tell()
            yield item

    def close(self) -> None:
        self.fh.close()

    def __enter__(self) -> "Spool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
