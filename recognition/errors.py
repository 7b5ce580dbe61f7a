"""Exceptions raised by the face pipeline.

    RecognitionError
    ├── ImageRefused            an input or a face fails a check; ``reason`` is a code for the page
    ├── ModelNotAvailableError  weights or a model package are missing or unreadable
    ├── TemplateError           a template cannot be decrypted, or belongs to another encoder
    └── EnrolmentRejected       enrolment captures are too few or do not agree
"""

from __future__ import annotations

__all__ = ["EnrolmentRejected", "ImageRefused", "ModelNotAvailableError", "RecognitionError", "TemplateError"]


class RecognitionError(Exception):
    """Base class of every error this package raises on purpose."""


class ImageRefused(RecognitionError):
    """An image or the face in it cannot be used; ``reason`` is one of ``types.REFUSAL_REASONS``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class ModelNotAvailableError(RecognitionError):
    """A model file or package the requested stage needs is not installed or cannot be read."""


class TemplateError(RecognitionError):
    """A stored template cannot be decrypted (wrong key, unknown key id, tampering) or used."""


class EnrolmentRejected(RecognitionError):
    """Captures cannot become a template; ``reason``: ``too_few_captures``, ``mixed_encoders``,
    ``captures_disagree``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
