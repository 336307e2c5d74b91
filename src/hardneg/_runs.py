"""Resumable run folders: the one way a stage starts, refuses or resumes its ``--out`` folder.

A stage that can be killed and run again (``hardneg mine``, ``hardneg bench``)
stamps the options that change its output into the folder, writes each finished
part under a name derived from what the part is, and on the next run skips the
parts already there. :class:`RunFolder` decides, from the folder's contents, the
stamp and the caller's ``resume``/``overwrite``, whether to start afresh, resume
or refuse; :func:`part_name` names the parts; the files themselves are written
with :func:`hardneg._atomic.staged_files` (stage beside, then rename), so a part
that is there is whole.

Two policies, one per kind of stage:

- ``resume_when_same=False`` (mine): a non-empty folder is resumed only when the
  caller asks (``resume=True``) and the stamp matches; a folder the run prepared
  but never worked in (``reuse_unstarted``: only the stamp and empty ``scratch``
  folders) is simply reused;
- ``resume_when_same=True`` (bench): a folder whose stamp matches is resumed
  without being asked; ``overwrite`` starts it afresh.

Examples
--------
>>> import tempfile
>>> run = RunFolder(Path(tempfile.mkdtemp()) / "out", "run.json", "mine", scratch=("parts",))
>>> run.prepare({"seed": 1})
False
>>> sorted(path.name for path in run.path.iterdir()), run.read_stamp()
(['parts', 'run.json'], {'seed': 1})
>>> (run.path / "parts" / part_name("item-7")).with_suffix(".parquet").touch()
>>> run.prepare({"seed": 1}, resume=True)
True
>>> run.prepare({"seed": 2}, resume=True)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
hardneg.errors.InputError: resume: ... was started with other options (--seed); resume with the same options, or pass --overwrite to start again
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from hardneg._atomic import write_bytes_atomic
from hardneg.errors import InputError

__all__ = ["RunFolder", "part_name"]


def part_name(key: str, length: int = 16) -> str:
    """A part's file name (without suffix): the first ``length`` hex digits of the SHA-1 of ``key``.

    ``key`` says what the part is (a model, feature set, split and seed; an item and its path),
    so a resumed run finds the part of the same work under the same name.

    Examples
    --------
    >>> part_name("logreg|summary|group|0")
    'f057e5e1cd58da21'
    """
    return hashlib.sha1(key.encode()).hexdigest()[:length]


@dataclass(frozen=True)
class RunFolder:
    """A stage's output folder, stamped with the options that made it.

    Attributes
    ----------
    path : Path
        The folder (``--out``).
    stamp_name : str
        The file, inside ``path``, holding the options as JSON (``mine.json``, ``bench.parameters.json``).
    stage : str
        The command that makes such folders (``mine``, ``bench``), as messages name it.
    scratch : tuple of str
        Folders created with the stamp, which finished parts go into (``shards``, ``parts``).
    resume_when_same : bool
        Resume a folder whose stamp matches without being asked (bench), instead of only with ``resume=True``.
    reuse_unstarted : bool
        Start afresh, without ``overwrite``, in a folder that holds only the stamp and empty scratch folders.
    """

    path: Path
    stamp_name: str
    stage: str
    scratch: tuple[str, ...] = ()
    resume_when_same: bool = False
    reuse_unstarted: bool = False

    def __post_init__(self):
        object.__setattr__(self, "path", Path(self.path))

    @property
    def stamp(self) -> Path:
        """The stamp file."""
        return self.path / self.stamp_name

    def read_stamp(self) -> dict | None:
        """The options the folder was stamped with, or None when it has no stamp."""
        return json.loads(self.stamp.read_text()) if self.stamp.is_file() else None

    def unstarted(self) -> bool:
        """Whether the folder holds nothing but the stamp and empty scratch folders: prepared, never worked in.

        Say the Ray cluster was unreachable: the run stopped after preparing the folder, before any part.
        """
        names = {path.name for path in self.path.iterdir()}
        if not names <= {self.stamp_name, *self.scratch}:
            return False
        return all(not (self.path / name).is_dir() or not any((self.path / name).iterdir()) for name in self.scratch)

    def prepare(self, options: dict, *, resume: bool = False, overwrite: bool = False) -> bool:
        """Make the folder ready for a run with ``options``; True when it resumes a run with the same options.

        A fresh start creates the folder and its scratch folders and writes the stamp
        (atomically); ``overwrite`` first removes whatever was there. A folder that
        cannot be resumed with these options is refused with :class:`InputError`.
        """
        out = self.path
        if out.exists() and not out.is_dir():
            raise InputError(f"out {out}: exists and is not a directory; choose another path", parameter="out")
        resumed = False
        if out.is_dir() and any(out.iterdir()) and not (self.reuse_unstarted and self.unstarted()):
            if self.resume_when_same:
                resumed = self._resume_when_same(options, overwrite)
            elif resume:
                self._resume_when_asked(options)
                return True
            elif not overwrite:
                raise InputError(
                    f"out {out}: directory exists and is not empty; pass --resume to continue it or --overwrite",
                    parameter="out",
                )
            else:
                shutil.rmtree(out)
        out.mkdir(parents=True, exist_ok=True)
        for name in self.scratch:
            (out / name).mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(self.stamp, json.dumps(options, indent=2) + "\n")
        return resumed

    def _resume_when_asked(self, options: dict) -> None:
        before = self.read_stamp()
        if before is None:
            raise InputError(
                f"out {self.path}: --resume needs a folder started by `hardneg {self.stage}`; "
                f"{self.stamp_name} missing",
                parameter="out",
            )
        if before != options:
            changed = sorted(key for key in before.keys() | options.keys() if before.get(key) != options.get(key))
            raise InputError(
                f"resume: {self.path} was started with other options "
                f"({', '.join('--' + key.replace('_', '-') for key in changed)}); "
                "resume with the same options, or pass --overwrite to start again",
                parameter="resume",
            )

    def _resume_when_same(self, options: dict, overwrite: bool) -> bool:
        if overwrite:
            shutil.rmtree(self.path)
            return False
        before = self.read_stamp()
        if before is None:
            raise InputError(
                f"out {self.path}: exists, is not empty and is not a {self.stage} folder; pass --overwrite",
                parameter="out",
            )
        if before != options:
            raise InputError(
                f"out {self.path}: holds a {self.stage} run with other parameters; pass --overwrite to start "
                "again, or the same options to resume it",
                parameter="out",
            )
        return True
