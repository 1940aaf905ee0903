"""The installed pxsim version, recorded in every output's provenance (a leaf)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pxsim")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+local"

__all__ = ["__version__"]
