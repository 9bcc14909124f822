"""gamma: built by flit_core."""

__version__ = "1.2.0rc1"
