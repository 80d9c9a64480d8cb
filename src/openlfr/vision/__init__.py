"""Pixels to faces: detection, landmarks, quality, alignment and templates."""

from openlfr.vision.face import Face, Quality, Template

__all__ = ["Face", "Quality", "Template"]
