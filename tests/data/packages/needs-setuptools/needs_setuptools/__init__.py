"""Needs setuptools."""

__version__ = "1.0"
