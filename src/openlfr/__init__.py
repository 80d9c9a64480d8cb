"""OpenLFR: open, accountable Live Facial Recognition."""

__version__ = "0.1.0"
