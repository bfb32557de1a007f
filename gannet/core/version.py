"""Gannet's version (the package's ``__version__``; kept here so any layer may read it
without importing the top-level package, whose names reach up to the SDK)."""

VERSION = "0.1.0"
DISTRIBUTION = "gannet-mlops"  # the name on the package index ("gannet" there is another project)
