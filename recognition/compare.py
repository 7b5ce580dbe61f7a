"""Distances, 1:1 verification and 1:N identification over a roster, with calibrated thresholds.

How the default thresholds were chosen (``recognition/calibration.py`` holds the method,
``scripts/bench_recognition.py calibrate`` redoes it): every photo of
``../shared/faces/eastasian_calib`` (306 LFW photos, 143 East Asian people) is encoded with the
CLI's photo policy; all 46,066 different-person pairs give the impostor distances and the 599
same-person pairs the genuine ones. The 0.1 % false-accept point of that sample is itself
uncertain, and the acceptance test is on other people, so the threshold is not read off the
sample directly: the identities are resampled with replacement 200 times (a bootstrap over
people, since pairs of one person are not independent), the 0.1 % impostor quantile is taken in
each resample, and the default is the 5th percentile of those, rounded down to 0.001. The
alignment changes the distances, so each detector has its thresholds: faces found by RetinaFace
are aligned on its five landmarks (``DEFAULT_THRESHOLDS``), faces found by the HOG fallback on
means of dlib's 68 points (``HOG_THRESHOLDS``). On the calibration set (MobileFaceNet with flip
test-time augmentation):

=============  ==========  =========  ========================  =====================  =====================
encoder        detector    metric     threshold (accept below)  false accepts          genuine rejected
=============  ==========  =========  ========================  =====================  =====================
mobilefacenet  retinaface  cosine     0.587 (bootstrap 0.5874)  0.052 % (24 / 46,066)  1.50 % (9 / 599)
mobilefacenet  hog         cosine     0.580 (bootstrap 0.5802)  0.050 % (23 / 46,066)  2.50 % (15 / 599)
dlib           retinaface  euclidean  0.381 (bootstrap 0.3812)  0.039 % (18 / 46,066)  42.4 % (254 / 599)
dlib           hog         euclidean  0.377 (bootstrap 0.3775)  0.043 % (20 / 46,066)  43.4 % (260 / 599)
=============  ==========  =========  ========================  =====================  =====================

No calibration photo is refused under the photo policy; under the strict check-in policy 29 of
306 are with RetinaFace (28 ``several_faces``: it also finds the half-cut neighbours of LFW crops),
which raises genuine rejects to about 17.5 %. dlib cannot reach both targets on East Asian faces;
it is kept as the second encoder only. All thresholds are parameters: the app passes its
configured value.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from .types import Encoding, Match, Template

__all__ = [
    "DEFAULT_MARGINS",
    "DEFAULT_ROSTER_RULE",
    "DEFAULT_THRESHOLDS",
    "HOG_THRESHOLDS",
    "METRICS",
    "Gallery",
    "RosterRule",
    "compare_encodings",
    "default_threshold",
    "verify",
]

METRICS = {"mobilefacenet": "cosine", "dlib": "euclidean"}
#: faces found by RetinaFace and aligned on its five points (the default detector)
DEFAULT_THRESHOLDS = {"mobilefacenet": 0.587, "dlib": 0.381}
#: faces found by dlib's HOG (the fallback) and aligned on the means of dlib's 68 points
HOG_THRESHOLDS = {"mobilefacenet": 0.58, "dlib": 0.377}
# 1:N answers "unknown" unless the best identity beats the second by this much distance
DEFAULT_MARGINS = {"mobilefacenet": 0.06, "dlib": 0.04}


def default_threshold(encoder: str, detector: str = "retinaface") -> float:
    """The calibrated distance threshold of ``encoder`` with faces from ``detector`` (``retinaface``
    or ``hog``: the alignment changes the distances, so each was calibrated; see the docstring).

    Raises:
        ValueError: unknown encoder or detector.
    """
    tables = {"retinaface": DEFAULT_THRESHOLDS, "hog": HOG_THRESHOLDS}
    if detector not in tables or encoder not in tables[detector]:
        raise ValueError(f"unknown encoder {encoder!r} or detector {detector!r}")
    return tables[detector][encoder]


@dataclass(frozen=True)
class RosterRule:
    """Open-set 1:N over a roster (kiosks): the threshold tightens with the roster's size and the
    best candidate must beat the second by ``margin``.

    ``threshold(base, n)`` is ``base − slope × log10(n)``, never below ``floor``. Chosen on
    eastasian_calib by ``scripts/bench_roster.py`` (see the README): false identification of
    someone not on the roster at most about 0.1 % per probe up to 1,000 trainees.
    """

    slope: float
    margin: float
    floor: float = 0.0

    def threshold(self, base: float, size: int) -> float:
        """The distance threshold for a roster of ``size`` templates, from the 1:1 ``base``."""
        return max(self.floor, base - self.slope * math.log10(max(size, 1)))


#: the kiosk rule for mobilefacenet (cosine distances), chosen on eastasian_calib: with the 1:1
#: threshold 0.587 it gives 0.527 at 10 trainees, 0.498 at 30, 0.467 at 100, 0.407 at 1,000
#: (before: 0.03 a decade and margin 0.06, 0.543 at 30; about 0.4-2.4 % false identification)
DEFAULT_ROSTER_RULE = RosterRule(slope=0.06, margin=0.12)


def _vector(x: Encoding | Template | np.ndarray) -> np.ndarray:
    return np.asarray(x.vector if isinstance(x, (Encoding, Template)) else x, dtype=np.float32)


def _encoder_of(*items: object) -> str | None:
    names = {getattr(i, "encoder") for i in items if isinstance(i, (Encoding, Template))}
    if len(names) > 1:
        raise ValueError(f"cannot compare vectors of different encoders: {sorted(names)}")
    return names.pop() if names else None


def compare_encodings(a: Encoding | Template | np.ndarray, b: Encoding | Template | np.ndarray, metric: str | None = None) -> float:
    """Distance between two face vectors of the same encoder; lower is more alike.

    Args:
        a, b: encodings, templates or float ``(128,)`` arrays.
        metric: ``cosine`` (1 − cos, for mobilefacenet) or ``euclidean`` (dlib); by default the
            metric of the encoder named by ``a``/``b``.

    Raises:
        ValueError: the vectors come from different encoders, or no metric can be inferred.
    """
    encoder = _encoder_of(a, b)
    metric = metric or (METRICS.get(encoder) if encoder else None)
    va, vb = _vector(a).astype(np.float64), _vector(b).astype(np.float64)
    if metric == "cosine":
        denom = np.linalg.norm(va) * np.linalg.norm(vb)
        return float(1.0 - va @ vb / denom) if denom > 0 else 2.0
    if metric == "euclidean":
        return float(np.linalg.norm(va - vb))
    raise ValueError(f"unknown metric {metric!r}")


def verify(template: Template | Encoding, probe: Encoding, threshold: float | None = None) -> Match:
    """1:1: does ``probe`` show the person of ``template``?

    Args:
        template: the enrolled template (or any encoding) of the claimed identity.
        probe: the live capture's encoding, from the same encoder.
        threshold: accept when the distance is below it; the encoder's default if ``None``.

    Returns:
        ``Match`` with decision ``match`` or ``no_match``, the distance and the threshold used.

    Raises:
        ValueError: template and probe come from different encoders.
    """
    encoder = _encoder_of(template, probe)
    threshold = default_threshold(encoder) if threshold is None else threshold
    distance = compare_encodings(template, probe)
    return Match("match" if distance < threshold else "no_match", distance, threshold)


class Gallery:
    """Templates of many people, searched at once with float32 matrix work (1:N).

    Storage: one C-contiguous float32 ``(capacity, dim)`` matrix, grown by doubling so that
    adding templates one by one costs amortised O(1) rows, never a full re-stack; cosine
    templates are normalised once when added. A search is one matrix–vector product written into
    a score buffer allocated with the matrix (no N-sized allocation per call), then the best row
    by ``argmax`` and the second by ``max`` after masking the best: two passes over an N-float
    buffer that is still in cache, cheaper than ``np.argpartition``, which allocates an N-sized
    int64 index array on every call (both measured in ``scripts/bench_recognition.py gallery``).
    The product is memory-bound (100,000 × 128 float32 = 51 MB read per search), so the cost is
    the machine's memory bandwidth: see the README for the figures. A lock guards the shared
    score buffer, so one gallery can be searched from several threads. One row per identity:
    enrol several captures into one template first.
    """

    def __init__(self, encoder: str, threshold: float | None = None, margin: float | None = None, dim: int = 128) -> None:
        self.encoder = encoder
        self.metric = METRICS[encoder]
        self.threshold = default_threshold(encoder) if threshold is None else threshold
        self.margin = DEFAULT_MARGINS[encoder] if margin is None else margin
        self.dim = dim
        self._ids: list[str] = []
        self._size = 0
        self._store = np.zeros((0, dim), dtype=np.float32)  # rows [:_size] are in use
        self._sq_store = np.zeros(0, dtype=np.float32)  # squared norms (Euclidean ranking)
        self._scores = np.zeros(0, dtype=np.float32)  # per-search buffer, same capacity
        self._lock = threading.Lock()

    @classmethod
    def from_templates(cls, templates: Mapping[str, Template], **kwargs) -> "Gallery":
        """Build a gallery from ``{identity: template}``; all templates must share one encoder."""
        encoders = {t.encoder for t in templates.values()}
        if len(encoders) > 1:
            raise ValueError(f"templates of several encoders: {sorted(encoders)}")
        gallery = cls(encoders.pop() if encoders else kwargs.pop("encoder", "mobilefacenet"), **kwargs)
        gallery.add_many(templates.keys(), (t.vector for t in templates.values()))
        return gallery

    def __len__(self) -> int:
        return self._size

    @property
    def _matrix(self) -> np.ndarray:
        """The templates in use, ``(N, dim)`` float32 (a view, not a copy)."""
        return self._store[: self._size]

    def add(self, identity: str, template: Template | np.ndarray) -> None:
        """Add one identity's template."""
        if isinstance(template, Template) and template.encoder != self.encoder:
            raise ValueError(f"template of {template.encoder}, gallery of {self.encoder}")
        self.add_many([identity], [_vector(template)])

    def add_many(self, identities: Iterable[str], vectors: Iterable[np.ndarray] | np.ndarray) -> None:
        """Add many templates at once: ``vectors`` is float ``(n, dim)`` in the order of ``identities``."""
        ids = list(identities)
        block = np.asarray(list(vectors) if not isinstance(vectors, np.ndarray) else vectors, dtype=np.float32)
        block = block.reshape(len(ids), -1) if ids else block.reshape(0, self.dim)
        if block.shape[1] != self.dim:
            raise ValueError(f"vectors of dimension {block.shape[1]}, gallery of {self.dim}")
        if self.metric == "cosine":
            block = block / np.maximum(np.linalg.norm(block, axis=1, keepdims=True), 1e-12)
        with self._lock:
            need = self._size + len(ids)
            if need > len(self._store):
                capacity = max(need, 2 * len(self._store), 1024)
                store = np.empty((capacity, self.dim), dtype=np.float32)
                store[: self._size] = self._store[: self._size]
                sq = np.empty(capacity, dtype=np.float32)
                sq[: self._size] = self._sq_store[: self._size]
                self._store, self._sq_store = store, sq
                self._scores = np.empty(capacity, dtype=np.float32)
            self._store[self._size : need] = block
            self._sq_store[self._size : need] = np.einsum("ij,ij->i", block, block)
            self._ids.extend(ids)
            self._size = need

    def _probe(self, probe: Encoding | np.ndarray) -> np.ndarray:
        if isinstance(probe, Encoding) and probe.encoder != self.encoder:
            raise ValueError(f"probe of {probe.encoder}, gallery of {self.encoder}")
        p = _vector(probe).reshape(-1)
        if p.shape[0] != self.dim:
            raise ValueError(f"probe of dimension {p.shape[0]}, gallery of {self.dim}")
        if self.metric == "cosine":
            p = p / np.float32(max(float(np.linalg.norm(p)), 1e-12))
        return np.ascontiguousarray(p, dtype=np.float32)

    def distances(self, probe: Encoding | np.ndarray) -> np.ndarray:
        """Distances from ``probe`` to every template, float32 ``(N,)`` in insertion order (a new array)."""
        p = self._probe(probe)
        m = self._matrix
        if self.metric == "cosine":
            return 1.0 - m @ p
        sq = self._sq_store[: self._size] + np.float32(p @ p) - 2.0 * (m @ p)
        return np.sqrt(np.maximum(sq, 0.0))

    def _top_two(self, probe: Encoding | np.ndarray) -> tuple[float, float, int]:
        """Best distance, second-best distance (inf if none) and the best row.

        Ranks by a score where higher is closer, computed into the preallocated buffer:
        the dot product for cosine, ``2 m·p − |m|²`` for Euclidean (``|p − m|² = |p|² − score``).
        """
        p = self._probe(probe)
        n = self._size
        with self._lock:
            scores = self._scores[:n]
            np.matmul(self._store[:n], p, out=scores)
            if self.metric == "euclidean":
                scores *= 2.0
                scores -= self._sq_store[:n]
            best = int(np.argmax(scores))
            best_score = float(scores[best])
            if n > 1:
                scores[best] = -np.inf
                second_score = float(scores.max())
            else:
                second_score = -np.inf
        if self.metric == "cosine":
            to_distance = lambda s: 1.0 - s  # noqa: E731
        else:
            pp = float(p @ p)
            to_distance = lambda s: math.sqrt(max(pp - s, 0.0))  # noqa: E731
        second = to_distance(second_score) if second_score > -np.inf else float("inf")
        return to_distance(best_score), second, best

    def identify(self, probe: Encoding | np.ndarray) -> Match:
        """1:N: who among the gallery is ``probe``?

        Returns:
            ``Match`` whose decision is ``match`` (``identity`` set) when the best distance is below
            the threshold and at least ``margin`` below the second best; ``unknown`` when the best
            is below the threshold but not clearly ahead (``identity`` is the best candidate, for
            logging only); ``no_match`` otherwise or for an empty gallery.
        """
        if not self._size:
            return Match("no_match", float("inf"), self.threshold)
        best_d, second_d, best = self._top_two(probe)
        margin = second_d - best_d
        if best_d >= self.threshold:
            return Match("no_match", best_d, self.threshold, None, margin)
        decision = "match" if margin >= self.margin else "unknown"
        return Match(decision, best_d, self.threshold, self._ids[best], margin)

    def find_duplicates(self, template: Template | Encoding | np.ndarray, threshold: float | None = None) -> list[tuple[str, float]]:
        """Identities whose template is within ``threshold`` of ``template`` (R1 duplicate check).

        Returns ``(identity, distance)`` pairs, closest first. Over a large roster a few innocent
        look-alikes are expected at the verification threshold (0.05 % of pairs): treat a hit as a
        case for a person to review, or pass a stricter threshold.
        """
        threshold = self.threshold if threshold is None else threshold
        d = self.distances(template)
        hits = np.flatnonzero(d < threshold)
        return sorted(((self._ids[i], float(d[i])) for i in hits), key=lambda x: x[1])
