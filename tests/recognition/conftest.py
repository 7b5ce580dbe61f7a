"""Fixtures for the face pipeline tests: real photos from ../shared/faces and cached encoders."""

from __future__ import annotations

import pathlib

import cv2
import numpy as np
import pytest

FACES = pathlib.Path(__file__).resolve().parents[2].parent / "shared" / "faces"


def _require_faces() -> pathlib.Path:
    if not (FACES / "obama.jpg").is_file():
        pytest.skip(f"real face photos not found at {FACES} (../shared/faces beside the project)")
    return FACES


@pytest.fixture(scope="session")
def faces_dir() -> pathlib.Path:
    """The folder of real face photos, or skip."""
    return _require_faces()


@pytest.fixture(scope="session")
def face_bytes(faces_dir):
    """Read one photo's bytes by file name."""

    def read(name: str) -> bytes:
        return (faces_dir / name).read_bytes()

    return read


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory) -> pathlib.Path:
    """A fresh cache directory: the MobileFaceNet ONNX file is generated there once per run."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def pipelines(model_cache):
    """``{encoder name: FacePipeline}`` for both encoders, sharing the session's cache."""
    from recognition import FacePipeline

    return {name: FacePipeline(encoder=name, cache_dir=model_cache) for name in ("mobilefacenet", "dlib")}


@pytest.fixture(scope="session")
def talking_head_frames(faces_dir):
    """All frames of talking_head.mp4 (25 fps, 200 frames) as uint8 RGB arrays."""
    capture = cv2.VideoCapture(str(faces_dir / "talking_head.mp4"))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(np.ascontiguousarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)))
    capture.release()
    if len(frames) < 180:
        pytest.skip("talking_head.mp4 could not be decoded by OpenCV")
    return frames
