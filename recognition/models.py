"""Lazy, cached loading of the models the pipeline runs; nothing is loaded at import time.

Where the weights come from:

* dlib's HOG face detector (built into dlib), its 68-point shape predictor and its ResNet face
  encoder: files of the ``face-recognition-models`` package, located without importing it (its
  ``__init__`` imports the deprecated ``pkg_resources``).
* MobileFaceNet and RetinaFace (MobileNet-0.25): ``facesdk/model.pt`` and
  ``facesdk/retinaface/weights/mobilenet0.25_Final.pth`` from the ``facesdk`` package, located
  without importing it (its ``__init__`` imports torch). The legacy torch pickles are read by
  ``torch_legacy`` and turned into ONNX by ``mobilefacenet_onnx`` and ``retinaface_onnx`` the first
  time they are needed; each ONNX file is written to a cache directory, named after the SHA-256 of
  its weights so a changed package regenerates it.

Nothing is downloaded. A missing package or file raises ``ModelNotAvailableError``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pathlib
import tempfile
import threading
from typing import Any

from .errors import ModelNotAvailableError

__all__ = [
    "DEFAULT_CACHE_DIR",
    "DlibModels",
    "load_dlib_models",
    "RETINAFACE_WEIGHTS",
    "load_mobilefacenet_session",
    "load_retinaface_session",
    "mobilefacenet_onnx_path",
    "package_dir",
    "retinaface_onnx_path",
]

DEFAULT_CACHE_DIR = pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache")) / "skilltrace"
# bump a kind's version when its converter changes the graph it writes
_CONVERTER_VERSIONS = {"mobilefacenet": 1, "retinaface": 1}
RETINAFACE_WEIGHTS = "retinaface/weights/mobilenet0.25_Final.pth"

_lock = threading.RLock()
_cache: dict[Any, Any] = {}


def package_dir(name: str) -> pathlib.Path:
    """Directory of an installed package, found without importing (running) it.

    Raises:
        ModelNotAvailableError: the package is not installed.
    """
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotAvailableError(f"package {name!r} is not installed")
    return pathlib.Path(next(iter(spec.submodule_search_locations)))


def _cached(key: Any, build) -> Any:
    with _lock:
        if key not in _cache:
            _cache[key] = build()
        return _cache[key]


class DlibModels:
    """dlib's HOG detector, 68-point shape predictor and 128-d face encoder (loaded once)."""

    def __init__(self) -> None:
        try:
            import dlib
        except ImportError as exc:  # pragma: no cover - dlib-bin is a hard requirement
            raise ModelNotAvailableError("dlib is not installed (install dlib-bin)") from exc
        models = package_dir("face_recognition_models") / "models"
        predictor = models / "shape_predictor_68_face_landmarks.dat"
        encoder = models / "dlib_face_recognition_resnet_model_v1.dat"
        for path in (predictor, encoder):
            if not path.is_file():
                raise ModelNotAvailableError(f"missing model file {path}")
        self.shape_predictor = dlib.shape_predictor(str(predictor))
        self.encoder = dlib.face_recognition_model_v1(str(encoder))
        # dlib's ResNet keeps its layer outputs inside the network object: one call at a time.
        self.encoder_lock = threading.Lock()
        self._local = threading.local()

    @property
    def detector(self):
        """This thread's HOG detector: sharing one between request threads gave wrong boxes
        under concurrent check-ins, and a detector costs almost nothing to make."""
        detector = getattr(self._local, "detector", None)
        if detector is None:
            import dlib

            detector = self._local.detector = dlib.get_frontal_face_detector()
        return detector


def load_dlib_models() -> DlibModels:
    """Return the process-wide ``DlibModels``, loading them on first call (about 0.5 s)."""
    return _cached("dlib", DlibModels)


def _facesdk_file(relative: str, what: str) -> pathlib.Path:
    path = package_dir("facesdk") / relative
    if not path.is_file():
        raise ModelNotAvailableError(f"missing {what} weights {path}")
    return path


def _generated_onnx(kind: str, weights: pathlib.Path, build, cache_dir: str | os.PathLike | None) -> pathlib.Path:
    """``<cache_dir>/<kind>-<sha256 of weights, 16 hex>-v<converter>.onnx``, built by
    ``build(state_dict) -> bytes`` from the legacy torch file ``weights`` if it does not exist yet."""
    raw = weights.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()[:16]
    directory = pathlib.Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE_DIR
    target = directory / f"{kind}-{digest}-v{_CONVERTER_VERSIONS[kind]}.onnx"
    if target.is_file():
        return target
    with _lock:
        if target.is_file():
            return target
        from .torch_legacy import TorchFormatError, load_legacy_state_dict

        try:
            model = build(load_legacy_state_dict(raw))
        except ImportError as exc:  # pragma: no cover - onnx is a hard requirement
            raise ModelNotAvailableError(f"the onnx package is needed to convert {kind}") from exc
        except (TorchFormatError, KeyError, ValueError) as exc:
            raise ModelNotAvailableError(f"cannot convert {weights}: {exc}") from exc
        directory.mkdir(parents=True, exist_ok=True)
        # write then rename, so that another worker never reads a half-written file
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{kind}-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(model)
            os.replace(tmp, target)
        except BaseException:
            pathlib.Path(tmp).unlink(missing_ok=True)
            raise
    return target


def mobilefacenet_onnx_path(cache_dir: str | os.PathLike | None = None) -> pathlib.Path:
    """Path of the generated MobileFaceNet ONNX file, creating it if it does not exist yet.

    Args:
        cache_dir: directory for generated models (the app passes ``instance/models``);
            ``None`` means ``DEFAULT_CACHE_DIR`` (``~/.cache/skilltrace``).

    Returns:
        ``<cache_dir>/mobilefacenet-<sha256 of model.pt, 16 hex>-v<converter>.onnx``.

    Raises:
        ModelNotAvailableError: facesdk or the ``onnx`` package is missing, or the weights
            cannot be read.
    """
    from .mobilefacenet_onnx import build_mobilefacenet_onnx

    weights = _facesdk_file("model.pt", "MobileFaceNet")
    return _generated_onnx("mobilefacenet", weights, build_mobilefacenet_onnx, cache_dir)


def retinaface_onnx_path(cache_dir: str | os.PathLike | None = None) -> pathlib.Path:
    """Path of the generated RetinaFace (MobileNet-0.25) ONNX file, creating it if needed.

    Returns:
        ``<cache_dir>/retinaface-<sha256 of mobilenet0.25_Final.pth, 16 hex>-v<converter>.onnx``.

    Raises:
        ModelNotAvailableError: as ``mobilefacenet_onnx_path``, for facesdk's
            ``retinaface/weights/mobilenet0.25_Final.pth``.
    """
    from .retinaface_onnx import build_retinaface_onnx

    weights = _facesdk_file(RETINAFACE_WEIGHTS, "RetinaFace")
    return _generated_onnx("retinaface", weights, build_retinaface_onnx, cache_dir)


def _onnx_session(kind: str, path: pathlib.Path, threads: int) -> Any:
    def build() -> Any:
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover
            raise ModelNotAvailableError("onnxruntime is not installed") from exc
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors for a bad file
            raise ModelNotAvailableError(f"cannot load {path}: {exc}") from exc

    return _cached((kind, str(path), threads), build)


def load_mobilefacenet_session(cache_dir: str | os.PathLike | None = None, threads: int = 1) -> Any:
    """Return a cached onnxruntime ``InferenceSession`` of MobileFaceNet.

    Args:
        cache_dir: where the ONNX file is generated and kept, see ``mobilefacenet_onnx_path``.
        threads: intra-op threads; 1 suits one request per worker process.

    Raises:
        ModelNotAvailableError: as ``mobilefacenet_onnx_path``, or onnxruntime is missing.
    """
    return _onnx_session("mobilefacenet", mobilefacenet_onnx_path(cache_dir), threads)


def load_retinaface_session(cache_dir: str | os.PathLike | None = None, threads: int = 1) -> Any:
    """Return a cached onnxruntime ``InferenceSession`` of RetinaFace (see ``retinaface_onnx``).

    Raises:
        ModelNotAvailableError: as ``retinaface_onnx_path``, or onnxruntime is missing.
    """
    return _onnx_session("retinaface", retinaface_onnx_path(cache_dir), threads)
