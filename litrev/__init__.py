"""litrev: an evidence database for living literature reviews."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("litrev")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
