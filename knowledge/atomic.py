"""Replace index files whole, so a crash or a second `parley ingest` never leaves half a file.

Each write goes to a temporary name in the target's own folder (a rename only stays atomic
within one file system) and is renamed over the target once complete. A reader holding the old
file keeps reading the old bytes. A crash can leave a hidden `.<name>.*.tmp` behind, never a
torn target.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

_SWAP_TRIES = 10  # a writer racing us puts its folder in place between our two renames


def write_file(path: Path, data: bytes) -> None:
    """Write `data` to `path`: readers see the old file or the new one, never a part of it."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())  # the bytes are on disk before the name points at them
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def replace_folder(path: Path, fill: Callable[[Path], None]) -> None:
    """Build a new folder with `fill(folder)` beside `path`, then swap it in.

    A folder cannot be renamed over a non-empty one, so the old folder is first renamed aside:
    for that instant `path` is missing, which readers take for a missing index. When writers
    race, the last one to swap wins.
    """
    new = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    old = new.with_suffix(".old")
    try:
        fill(new)
        for attempt in range(_SWAP_TRIES):
            with contextlib.suppress(FileNotFoundError):  # no index yet, or a racer moved it
                path.rename(old)
            try:
                new.rename(path)
                return
            except OSError as exc:
                if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY) or attempt + 1 == _SWAP_TRIES:
                    raise
            finally:
                shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
