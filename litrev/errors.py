"""Errors a user can cause. The CLI prints them as one line and exits non-zero."""


class LitrevError(Exception):
    """Something went wrong that the user can fix; the message says what to do."""

    exit_code = 1


class QueryFileError(LitrevError):
    """A saved query file is broken (bad TOML, unknown key or source, bad filter)."""

    exit_code = 2


class SourceError(LitrevError):
    """An API answered with an error, a broken body, or not at all."""


class InputFileError(LitrevError):
    """An imported file (RIS, BibTeX, CSV, nbib) is malformed."""


class UnknownIdError(LitrevError):
    """A work or record id given on the command line does not exist."""


class DatabaseLockedError(LitrevError):
    """Another process held the write lock for longer than the busy timeout."""
