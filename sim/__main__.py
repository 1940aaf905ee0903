"""`python -m sim` does what the `pxsim` console script does."""

from sim.cli.main import entry

entry()
