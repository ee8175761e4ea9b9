"""The package version, recorded in every model file and summary."""

__version__ = "0.1.0"
