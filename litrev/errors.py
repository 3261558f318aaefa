"""Errors a user can cause. The CLI prints them as one line and exits non-zero."""

import unicodedata

# Control, format (bidi overrides, zero-width) and line/paragraph separator characters:
# echoed raw from a file they can clear a terminal, recolour it, reorder text or break
# the one-line error into several.
_UNPRINTABLE = {"Cc", "Cf", "Zl", "Zp"}


def printable(text: str) -> str:
    """`text` with every control or format character escaped (ESC -> \\x1b), safe to echo."""
    if text.isprintable():
        return text
    return "".join(_escape(c) if unicodedata.category(c) in _UNPRINTABLE else c for c in text)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


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


class OutputPathError(LitrevError):
    """A file litrev was asked to write cannot be written there (a file in the way, no access)."""


class DatabaseLockedError(LitrevError):
    """Another process held the write lock for longer than the busy timeout."""
