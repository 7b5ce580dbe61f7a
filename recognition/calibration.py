"""How the default thresholds are chosen: pair rates and the identity bootstrap.

Used by ``scripts/bench_recognition.py calibrate`` on ``../shared/faces/eastasian_calib`` (and only
there: other LFW photos are held out to judge the result). The steps:

1. Encode every photo once, with the same pipeline and policy as ``python -m recognition verify``
   (a refused photo has no vector). All different-person pairs are the impostor pairs, all
   same-person pairs the genuine ones.
2. The 0.1 % false-accept point of one sample is itself uncertain, and the acceptance test is on
   other people, so it is not read off the sample. The *identities* are resampled with
   replacement (200 rounds, fixed seed; people, not pairs, because the pairs of one person are
   not independent); in each round the 0.1 % quantile of the impostor distances is taken.
3. The threshold is the 5th percentile of those quantiles (so in 95 % of resampled populations
   the threshold sits at or below their 0.1 % point), rounded *down* to 0.001.

Refused photos are left out of step 2 (they cannot be falsely accepted) and counted as rejections
in the reported genuine-reject rate, as the acceptance test counts them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["PairRates", "bootstrap_threshold", "distance_matrix", "pair_rates", "round_down"]


def distance_matrix(vectors: np.ndarray, metric: str) -> np.ndarray:
    """All pairwise distances of float ``(n, dim)`` vectors: ``1 − cos`` or Euclidean, float64 ``(n, n)``."""
    m = np.asarray(vectors, dtype=np.float64)
    if metric == "cosine":
        m = m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)
        return 1.0 - m @ m.T
    if metric == "euclidean":
        sq = (m * m).sum(axis=1)
        return np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2.0 * m @ m.T, 0.0))
    raise ValueError(f"unknown metric {metric!r}")


def bootstrap_threshold(
    people: Sequence[str], distances: np.ndarray, *, far: float = 0.001, rounds: int = 200, percentile: float = 5.0, seed: int = 0
) -> float:
    """Step 2–3 without the rounding: the ``percentile`` of the per-resample ``far`` impostor quantile.

    Args:
        people: identity of each encoded photo (refused photos already removed).
        distances: their ``(n, n)`` distance matrix.
    """
    people = np.asarray(people)
    ids = np.unique(people)
    index = {u: np.flatnonzero(people == u) for u in ids}
    rng = np.random.default_rng(seed)
    found = []
    for _ in range(rounds):
        sel = np.concatenate([index[u] for u in rng.choice(ids, len(ids))])
        labels = people[sel]
        iu = np.triu_indices(len(sel), 1)
        # a person drawn twice gives identical rows: same label, so never an impostor pair
        impostor = (labels[:, None] != labels[None, :])[iu]
        found.append(np.quantile(distances[np.ix_(sel, sel)][iu][impostor], far))
    return float(np.percentile(found, percentile))


def round_down(value: float, step: float = 0.001) -> float:
    """``value`` rounded down to a multiple of ``step`` (a threshold only ever moves to the strict side)."""
    return round(math.floor(value / step + 1e-9) * step, 10)


@dataclass(frozen=True)
class PairRates:
    """Outcome of all pairs at one threshold; refused photos make their pairs rejections."""

    threshold: float
    impostor_pairs: int
    genuine_pairs: int
    false_accepts: int
    genuine_rejects: int  # refusals included
    genuine_refused: int  # genuine pairs with a refused photo

    @property
    def far(self) -> float:
        return self.false_accepts / max(self.impostor_pairs, 1)

    @property
    def frr(self) -> float:
        """Genuine rejects over genuine pairs, refusals counted as rejects."""
        return self.genuine_rejects / max(self.genuine_pairs, 1)

    @property
    def frr_encoded(self) -> float:
        """Genuine rejects among genuine pairs whose two photos were both encoded."""
        return (self.genuine_rejects - self.genuine_refused) / max(self.genuine_pairs - self.genuine_refused, 1)


def pair_rates(people: Sequence[str], distances: np.ndarray, encoded: Sequence[bool], threshold: float) -> PairRates:
    """False accepts and genuine rejects over all pairs of photos (accept when distance < threshold).

    Args:
        people: identity of every photo, refused ones included.
        distances: ``(n, n)`` distances (rows of refused photos are ignored).
        encoded: whether each photo was encoded (False = refused).
    """
    people = np.asarray(people)
    ok = np.asarray(encoded, dtype=bool)
    iu = np.triu_indices(len(people), 1)
    same = (people[:, None] == people[None, :])[iu]
    both = (ok[:, None] & ok[None, :])[iu]
    accept = both & (distances[iu] < threshold)
    return PairRates(
        threshold=threshold,
        impostor_pairs=int((~same).sum()),
        genuine_pairs=int(same.sum()),
        false_accepts=int(accept[~same].sum()),
        genuine_rejects=int((same & ~accept).sum()),
        genuine_refused=int((same & ~both).sum()),
    )
