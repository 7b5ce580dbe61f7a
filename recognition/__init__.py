"""Face pipeline with no Flask: safe image decoding, detection, alignment, encoding, comparison,
liveness, enrolment and template encryption. See ``recognition/README.md``.

The stage verbs (``decode_image``, ``detect_faces``, ``align_face``, ``encode_face``,
``compare_encodings``, ``check_liveness``) compose by hand; ``FacePipeline`` binds them with a
detector, an encoder and policies for the app. Everything else is a module-level detail.
"""

from .align import align_face
from .compare import DEFAULT_ROSTER_RULE, DEFAULT_THRESHOLDS, Gallery, RosterRule, compare_encodings, default_threshold, verify
from .decode import decode_image
from .detect import DEFAULT_DETECTOR, DETECTORS, detect_faces, get_detector
from .encode import DEFAULT_ENCODER, ENCODERS, encode_face, get_encoder
from .enrol import enrol_template
from .errors import EnrolmentRejected, ImageRefused, ModelNotAvailableError, RecognitionError, TemplateError
from .liveness import ACTIONS, Challenge, LivenessPolicy, check_liveness, new_challenge
from .pipeline import DecodeLimits, FacePipeline, analyse_image, select_face
from .quality import QualityPolicy
from .templates import TemplateCipher, generate_key, parse_keys
from .types import REFUSAL_REASONS, Capture, Encoding, Face, FaceBox, Landmarks, LivenessResult, Match, Quality, Template

__all__ = [
    "ACTIONS",
    "DEFAULT_DETECTOR",
    "DEFAULT_ENCODER",
    "DEFAULT_ROSTER_RULE",
    "DEFAULT_THRESHOLDS",
    "DETECTORS",
    "ENCODERS",
    "REFUSAL_REASONS",
    "Capture",
    "Challenge",
    "DecodeLimits",
    "Encoding",
    "EnrolmentRejected",
    "Face",
    "FaceBox",
    "FacePipeline",
    "Gallery",
    "ImageRefused",
    "Landmarks",
    "LivenessPolicy",
    "LivenessResult",
    "Match",
    "ModelNotAvailableError",
    "Quality",
    "QualityPolicy",
    "RosterRule",
    "RecognitionError",
    "Template",
    "TemplateCipher",
    "TemplateError",
    "align_face",
    "analyse_image",
    "check_liveness",
    "compare_encodings",
    "decode_image",
    "default_threshold",
    "detect_faces",
    "encode_face",
    "enrol_template",
    "generate_key",
    "get_detector",
    "get_encoder",
    "new_challenge",
    "parse_keys",
    "select_face",
    "verify",
]
