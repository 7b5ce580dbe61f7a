"""Enrolment: several captures of one person become one template, only when they agree."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np

from .compare import METRICS, compare_encodings, default_threshold
from .errors import EnrolmentRejected
from .types import Encoding, Template

__all__ = ["DEFAULT_MIN_CAPTURES", "enrol_template"]

DEFAULT_MIN_CAPTURES = 3


def enrol_template(
    encodings: Sequence[Encoding], *, min_captures: int = DEFAULT_MIN_CAPTURES, agreement: float | None = None
) -> Template:
    """Combine captures of one person into a template.

    Every pair of captures must be closer than ``agreement`` (by default the encoder's match
    threshold): a set in which two captures would not verify against each other is probably not
    one person, or holds a poor capture, and is refused rather than averaged. The template is the
    mean of the vectors (re-normalised for cosine encoders), which is steadier than any one capture.

    Args:
        encodings: the captures' encodings, all from one encoder.
        min_captures: fewest captures accepted.
        agreement: largest allowed pairwise distance.

    Returns:
        A ``Template`` with the combined float32 vector, the encoder and the capture count.

    Raises:
        EnrolmentRejected: ``too_few_captures``, ``mixed_encoders`` or ``captures_disagree``
            (``detail`` names the worst pair and its distance).
    """
    if len(encodings) < max(1, min_captures):
        raise EnrolmentRejected("too_few_captures", f"{len(encodings)} of {min_captures}")
    encoders = {e.encoder for e in encodings}
    if len(encoders) != 1:
        raise EnrolmentRejected("mixed_encoders", ", ".join(sorted(encoders)))
    encoder = encoders.pop()
    limit = default_threshold(encoder) if agreement is None else agreement
    worst = max(
        ((compare_encodings(a, b), i, j) for (i, a), (j, b) in combinations(enumerate(encodings), 2)),
        default=(0.0, 0, 0),
    )
    if worst[0] >= limit:
        raise EnrolmentRejected("captures_disagree", f"captures {worst[1]} and {worst[2]} at distance {worst[0]:.3f}")
    vectors = np.stack([np.asarray(e.vector, dtype=np.float64) for e in encodings])
    if METRICS[encoder] == "cosine":
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        mean = vectors.mean(axis=0)
        mean /= np.linalg.norm(mean)
    else:
        mean = vectors.mean(axis=0)
    return Template(mean.astype(np.float32), encoder, len(encodings))
