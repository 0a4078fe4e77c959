"""Errors raised by confide.

Every error says what was wrong, what was passed and how to fix it. Errors about the
*value* of an input subclass :class:`ValueError`; errors about its *type* subclass
:class:`TypeError`, so code that already catches the built-in exceptions keeps working.
"""

from __future__ import annotations

__all__ = [
    "ConfideError",
    "ConfideTypeError",
    "LabelError",
    "MissingDependencyError",
    "NonFiniteError",
    "NotFittedError",
    "ProbabilityError",
    "SchemaError",
    "ShapeError",
    "ValidationError",
]


class ConfideError(Exception):
    """Base class of every error confide raises on purpose."""


class ValidationError(ConfideError, ValueError):
    """An input has a value confide cannot use (see the subclasses for the common cases)."""


class ShapeError(ValidationError):
    """An array has the wrong number of dimensions or a length that does not match."""


class NonFiniteError(ValidationError):
    """An array holds NaN or an infinity where finite numbers are required."""


class ProbabilityError(ValidationError):
    """Probabilities outside [0, 1], or rows that do not sum to 1."""


class LabelError(ValidationError):
    """A label that is not one of the classes, or a label array of the wrong kind."""


class NotFittedError(ValidationError):
    """An estimator (calibrator, conformal predictor, monitor) was used before ``fit``."""


class SchemaError(ValidationError):
    """A saved object of another schema version or kind, or a file that was altered."""


class ConfideTypeError(ConfideError, TypeError):
    """An argument of the wrong type (for example a string where an array is needed)."""


class MissingDependencyError(ConfideError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"{purpose} needs the optional package {package!r}, which is not installed. "
            f"Install it with: pip install 'confide[{extra}]'"
        )
