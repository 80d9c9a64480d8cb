"""Errors a user can cause. The CLI and API turn each into one clear message, never a traceback."""


class OpenLFRError(Exception):
    """Base of every error that is the user's input, not a bug."""


class ImageError(OpenLFRError):
    """An image file that cannot be read (missing, empty, corrupt, not an image)."""


class NoFaceError(OpenLFRError):
    """An image in which no usable face was found."""


class ModelMismatchError(OpenLFRError):
    """Templates of two different models were compared."""


class ModelNotFoundError(OpenLFRError):
    """A backend's model files are missing or unusable."""


class ConfigError(OpenLFRError):
    """A bad option, path or configuration value."""


class WatchlistError(OpenLFRError):
    """An unknown, empty or inconsistent watchlist."""


class CalibrationError(OpenLFRError):
    """No calibration for a model, or a request outside what it can answer."""
