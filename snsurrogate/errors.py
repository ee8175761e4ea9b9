"""Exceptions that the command line turns into a one-line message and exit status 2.

Every error a user can cause (a bad CSV, a corrupt model file, a training run that diverged) is a
subclass of :class:`SnsurrogateError`. The CLI prints ``error: <message>`` for these and never a
traceback; anything else reaching the CLI is a bug in the package.
"""

from __future__ import annotations

import os


class SnsurrogateError(Exception):
    """Base class of the errors a user can cause and fix."""


class DataError(SnsurrogateError, ValueError):
    """A problem with an input data file, located by file, line and column where known.

    Parameters
    ----------
    message
        What is wrong and what was expected.
    file
        Path of the offending file.
    line
        1-based line number in the file (as an editor shows it), or None.
    column
        Column name (or 1-based column number) in the file, or None.
    """

    def __init__(
        self,
        message: str,
        file: str | os.PathLike[str] | None = None,
        line: int | None = None,
        column: str | int | None = None,
    ) -> None:
        self.message = message
        self.file = None if file is None else os.fspath(file)
        self.line = line
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        if self.column is not None:
            where += f"column {self.column!r}: " if isinstance(self.column, str) else f"column {self.column}: "
        return where + self.message


class ModelFileError(SnsurrogateError):
    """A model file that is missing, corrupt, tampered with, or of an unknown format."""


class TrainingError(SnsurrogateError):
    """Training could not produce a usable model (diverged before any finite loss, bad options)."""


class UnsupportedLawError(SnsurrogateError, TypeError):
    """A law used where it cannot work (a finite-strain hyperelastic law in the small-strain solver)."""


class CaseFileError(SnsurrogateError, ValueError):
    """A case file (or case dict) with a wrong, missing or inconsistent value.

    The message reads ``<file>: <where>: <what is wrong>``, where ``where`` names the section and key
    (``[time] dt``, ``[[boundary]] #2 (clamp) nodes``); a problem of the whole file has no ``where``.

    Parameters
    ----------
    message
        What is wrong and what was expected.
    file
        How the case is named: its path as given, or ``"<case>"`` for a dict.
    where
        Section and key, as the message shows them, or ``None``.
    """

    def __init__(self, message: str, file: str | None = None, where: str | None = None) -> None:
        self.message, self.file, self.where = message, file, where
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [p for p in (self.file, self.where) if p]
        return ": ".join([*parts, self.message])
