"""The package's version, importable by every stage without importing the package's root."""

__version__ = "0.1.0"
