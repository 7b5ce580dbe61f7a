"""The face library wired into the app: one lazily built `recognition.FacePipeline` and the
`TemplateCipher` for templates at rest, kept in ``app.extensions["face"]``.

Nothing is loaded when the app is built except the template keys, which are parsed then so that
a bad key setting stops the service at start rather than at the first enrolment. The detector and
encoder load on the first frame (and the MobileFaceNet and RetinaFace ONNX files are generated
into ``FACE_MODEL_DIR``, ``instance/models`` by default, the first time on a machine).

A template records the detector whose landmarks aligned its faces (``FaceTemplate.detector``):
a probe is compared only with templates of its own pipeline. `pipeline_for` gives the pipeline of
another detector (to align a probe as an older template was aligned), `threshold_for` its
calibrated threshold, and `available` whether this server can run it at all (RetinaFace needs
facesdk's weights and onnxruntime; without them ``get_detector`` falls back to HOG).
"""
from __future__ import annotations

from functools import cached_property, lru_cache

from flask import Flask, current_app
from recognition import (DETECTORS, ENCODERS, DecodeLimits, FacePipeline, TemplateCipher,
                         default_threshold, get_detector, parse_keys)

EXTENSION = "face"


class FaceRecognition:
    """The app's face settings and the objects built from them.

    Args:
        config: the app's config (``FACE_*``, ``TEMPLATE_KEYS``, ``TEMPLATE_KEY_ID``).

    Raises:
        RuntimeError: unknown encoder or detector, malformed template keys, or a key id that is not among them.
    """

    def __init__(self, config) -> None:
        self.encoder = config["FACE_ENCODER"]
        if self.encoder not in ENCODERS:
            raise RuntimeError(f"SKILLTRACE_FACE_ENCODER must be one of {', '.join(ENCODERS)}, "
                               f"not {self.encoder!r}")
        self.detector = config.get("FACE_DETECTOR", "retinaface")
        if self.detector not in DETECTORS:
            raise RuntimeError(f"SKILLTRACE_FACE_DETECTOR must be one of {', '.join(DETECTORS)}, "
                               f"not {self.detector!r}")
        self.model_dir = config["FACE_MODEL_DIR"]
        self._match_setting = _threshold(config.get("FACE_MATCH_THRESHOLD"))
        self._duplicate_setting = _threshold(config.get("FACE_DUPLICATE_THRESHOLD"))
        self._review_setting = _threshold(config.get("FACE_DUPLICATE_REVIEW_THRESHOLD"))
        self.max_frame_bytes = int(config["FACE_MAX_FRAME_BYTES"])
        self.cipher = _build_cipher(config["TEMPLATE_KEYS"], config.get("TEMPLATE_KEY_ID"))

    @cached_property
    def match_threshold(self) -> float:
        """``FACE_MATCH_THRESHOLD``, else the default calibrated for the encoder with the detector
        in use (asking for it loads the detector: the HOG fallback has its own threshold)."""
        if self._match_setting is not None:
            return self._match_setting
        return default_threshold(self.encoder, self.pipeline.get_detector().name)

    @cached_property
    def duplicate_threshold(self) -> float:
        """``FACE_DUPLICATE_THRESHOLD``, else the match threshold."""
        return self.match_threshold if self._duplicate_setting is None else self._duplicate_setting

    @cached_property
    def review_threshold(self) -> float:
        """Looser: an enrolment whose face is this close to other trainees' is kept, but listed for
        review with its nearest templates (a mask or sunglasses drawn on the same face);
        ``FACE_DUPLICATE_REVIEW_THRESHOLD``, else the duplicate threshold plus `REVIEW_MARGIN`."""
        return self.duplicate_threshold + REVIEW_MARGIN if self._review_setting is None else self._review_setting

    @cached_property
    def pipeline(self) -> FacePipeline:
        """The pipeline, built on first use; its models load on the first frame, once per
        process (recognition caches them), so two requests racing here cost nothing twice."""
        return FacePipeline(encoder=self.encoder, detector=self.detector, cache_dir=self.model_dir,
                            limits=DecodeLimits(max_bytes=self.max_frame_bytes))


    @property
    def detector_in_use(self) -> str:
        """The detector that actually runs (the configured one, or HOG after a fallback); new
        templates record it."""
        return self.pipeline.get_detector().name

    def available(self, detector: str) -> bool:
        """Whether this server can align faces with ``detector`` (not silently HOG instead)."""
        return detector in DETECTORS and get_detector(detector, self.model_dir).name == detector

    def pipeline_for(self, detector: str) -> FacePipeline:
        """The pipeline aligning with ``detector`` (this one when it is the detector in use)."""
        return self.pipeline if detector == self.detector_in_use else _pipeline(
            self.encoder, detector, self.model_dir, self.max_frame_bytes)

    def threshold_for(self, detector: str) -> float:
        """The 1:1 threshold for a template made with ``detector``: ``FACE_MATCH_THRESHOLD`` when
        set, else the default calibrated for the encoder with that detector."""
        if detector == self.detector_in_use:
            return self.match_threshold
        return self._match_setting if self._match_setting is not None else default_threshold(self.encoder, detector)

    def duplicate_thresholds_for(self, detector: str) -> tuple[float, float]:
        """(duplicate, review) thresholds for templates made with ``detector``: the configured
        ones, else as `duplicate_threshold` and `review_threshold` from `threshold_for`."""
        if detector == self.detector_in_use:
            return self.duplicate_threshold, self.review_threshold
        duplicate = self.threshold_for(detector) if self._duplicate_setting is None else self._duplicate_setting
        return duplicate, duplicate + REVIEW_MARGIN if self._review_setting is None else self._review_setting


@lru_cache(maxsize=4)
def _pipeline(encoder: str, detector: str, model_dir, max_frame_bytes: int) -> FacePipeline:
    return FacePipeline(encoder=encoder, detector=detector, cache_dir=model_dir,
                        limits=DecodeLimits(max_bytes=max_frame_bytes))


#: How much looser than the duplicate threshold the review threshold is by default: the issue's
#: masked second enrolment was 0.673 from the first template (threshold 0.58).
REVIEW_MARGIN = 0.15


def _threshold(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    if not 0 < value < 2:
        raise RuntimeError(f"face distance thresholds must lie between 0 and 2, not {value}")
    return value


def _build_cipher(spec: str, key_id: str | None) -> TemplateCipher:
    try:
        keys = parse_keys(spec or "")
    except ValueError as exc:
        raise RuntimeError(f"SKILLTRACE_TEMPLATE_KEYS: {exc}") from None
    if not keys:
        raise RuntimeError("SKILLTRACE_TEMPLATE_KEYS holds no key")
    if key_id is None:
        if len(keys) > 1:
            raise RuntimeError("SKILLTRACE_TEMPLATE_KEY_ID must name the current key when "
                               "SKILLTRACE_TEMPLATE_KEYS holds several")
        key_id = next(iter(keys))
    if key_id not in keys:
        raise RuntimeError(f"SKILLTRACE_TEMPLATE_KEY_ID {key_id!r} is not among SKILLTRACE_TEMPLATE_KEYS")
    return TemplateCipher(keys, key_id)


def init_app(app: Flask) -> None:
    """Check the face settings and put a `FaceRecognition` in ``app.extensions["face"]``."""
    app.extensions[EXTENSION] = FaceRecognition(app.config)


def get_face() -> FaceRecognition:
    """The current app's `FaceRecognition`."""
    return current_app.extensions[EXTENSION]
