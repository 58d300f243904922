"""Errors that name the cassette file and what is wrong with it."""

from __future__ import annotations


class CassetteError(Exception):
    """A cassette file cannot be used; the message names the file and the fault."""

    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"cassette {self.path}: {problem}")


class CassetteFormatError(CassetteError):
    """The file is not a cassette this version can read (corrupt, hand-edited, unknown version)."""
