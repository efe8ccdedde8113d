"""The package version (its own module: the plugin index reads it without the package's ``__init__``)."""

__version__ = "0.1.0"
