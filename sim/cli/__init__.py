"""Floor 8: the command line (``pxsim``): one module per command, the shared options, ``main``."""

from sim.cli.main import entry, main

__all__ = ["entry", "main"]
