"""Tether: drive a local AI coding agent from anywhere, with every tool call gated."""

__all__ = ["__version__"]

__version__ = "0.1.0"
