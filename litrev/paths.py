"""Files litrev writes (exports, diagrams, the decision log, the databases): where they can go.

A missing folder is made, as `litrev publish` always did; anything else in the way is a
one-line `OutputPathError` naming the path, never a traceback.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from litrev.errors import OutputPathError


def prepare_output(path: str | Path) -> Path:
    """`path` ready to be written: its folder made when missing."""
    path = Path(path)
    if path.is_dir():
        raise OutputPathError(f"{path} is a folder. Give a file path.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise OutputPathError(f"Cannot make the folder {path.parent}: a file is in the way. "
                              "Give another path.")
    except OSError as e:
        raise OutputPathError(f"Cannot make the folder {path.parent} ({e.strerror}). "
                              "Give another path.")
    return path


@contextmanager
def open_output(path: str | Path, *, newline: str | None = None) -> Iterator[TextIO]:
    """A UTF-8 text file to write at `path` (see prepare_output); a failed write (no access,
    disk full) is a one-line OutputPathError too."""
    target = prepare_output(path)
    try:
        with open(target, "w", encoding="utf-8", newline=newline) as out:
            yield out
    except OSError as e:
        raise OutputPathError(f"Cannot write {target} ({e.strerror}). Give another path.")
