"""One error hierarchy. Each error carries the exit code the CLI ends with and a message
for a person. Messages never quote case text (titles, notes, parties): they name IDs and codes."""

from __future__ import annotations

# Documented exit codes (README, "Exit codes").
EXIT_OK = 0
EXIT_FOUND = 1  # report overdue --fail-if-any found something
EXIT_BAD_INPUT = 2
EXIT_STORAGE = 3


class FujianError(Exception):
    """Base of every error a user can cause or meet."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadInput(FujianError):
    """The user typed something we cannot accept: nothing was changed."""

    exit_code = EXIT_BAD_INPUT


class NotFound(BadInput):
    """An ID, unit or meeting that does not exist."""


class StorageError(FujianError):
    """The database cannot be opened, read or written."""

    exit_code = EXIT_STORAGE
