"""RetinaFace: the torch-free ONNX detector finds faces where dlib does, its five points align the
face, its boxes mean what HOG's meant, and HOG stays as the switchable, automatic fallback."""

import logging
import pathlib

import cv2
import numpy as np
import pytest

from recognition import FacePipeline, ImageRefused, QualityPolicy, analyse_image, decode_image, detect_faces, get_detector
from recognition.align import align_face
from recognition.detect import HogDetector, RetinaFaceDetector
from recognition.errors import ModelNotAvailableError
from recognition.models import RETINAFACE_WEIGHTS, package_dir, retinaface_onnx_path
from recognition.retinaface_onnx import retinaface_priors
from recognition.torch_legacy import load_legacy_state_dict

PHOTOS = ["obama.jpg", "obama2.jpg", "biden.jpg", "kit_harington_john1.jpeg", "rose_leslie_img1.jpg",
          "alex_lacamoire1.jpg", "obama-240p.jpg", "obama_small.jpg"]


@pytest.fixture(scope="module")
def retinaface(model_cache):
    return get_detector("retinaface", model_cache)


def test_retinaface_weights_read_without_torch():
    state = load_legacy_state_dict((package_dir("facesdk") / RETINAFACE_WEIGHTS).read_bytes())
    assert state["body.stage1.0.0.weight"].shape == (8, 3, 3, 3)
    assert state["LandmarkHead.2.conv1x1.weight"].shape == (20, 64, 1, 1)


def test_retinaface_onnx_is_generated_once_and_has_one_row_per_anchor(model_cache, retinaface):
    path = retinaface_onnx_path(model_cache)
    assert path.parent == pathlib.Path(model_cache) and path.name.startswith("retinaface-")
    mtime = path.stat().st_mtime_ns
    assert retinaface_onnx_path(model_cache) == path and path.stat().st_mtime_ns == mtime
    assert isinstance(retinaface, RetinaFaceDetector)
    scores, boxes, points = retinaface.raw(np.full((240, 320, 3), 128, np.uint8), 320)
    assert len(scores) == len(boxes) == len(points) == 0  # a grey frame holds no face
    # 320x256 after padding: (40*32 + 20*16 + 10*8) cells, two anchors each
    assert len(retinaface_priors(256, 320)) == 2 * (40 * 32 + 20 * 16 + 10 * 8)


@pytest.mark.parametrize("name", PHOTOS)
def test_retinaface_points_agree_with_dlibs_68(face_bytes, retinaface, name):
    """An independent model's landmarks as the reference: a wrongly folded BatchNorm, a swapped
    head or a mis-scaled prior moves the points by far more than this."""
    image = decode_image(face_bytes(name))
    (hog,) = detect_faces(image, detector="hog")[:1]
    (face,) = retinaface.detect(image, retinaface.default_side)[:1]
    ours, dlibs = face.landmarks.five_points(), hog.landmarks.five_points()
    eyes = float(np.linalg.norm(dlibs[0] - dlibs[1]))
    assert face.landmarks.five is not None
    assert np.linalg.norm(ours - dlibs, axis=1).mean() < 0.2 * eyes
    # the box is placed where HOG draws it, so the size gate means the same with either detector
    # (HOG's own box size varies by about 10 % from photo to photo, up to 40 % on these)
    assert np.linalg.norm(np.subtract(face.box.centre, hog.box.centre)) < 0.25 * hog.box.width
    assert 0.66 < face.box.width / hog.box.width < 1.5


def test_retinaface_sees_both_people_so_several_faces_is_refused(face_bytes, retinaface):
    image = decode_image(face_bytes("two_people.jpg"))
    assert len(retinaface.detect(image, retinaface.default_side)) == 2
    with pytest.raises(ImageRefused) as info:
        analyse_image(face_bytes("two_people.jpg"), detector=retinaface)
    assert info.value.reason == "several_faces"


def test_alignment_uses_retinafaces_five_points(face_bytes, model_cache):
    pipeline = FacePipeline(cache_dir=model_cache, policy=QualityPolicy(several_faces="central", max_yaw=1.5, max_pitch=1.5))
    image, capture = pipeline.capture(face_bytes("biden.jpg"))
    five = capture.face.landmarks.five
    assert five is not None and pipeline.get_detector().name == "retinaface"
    assert np.array_equal(capture.aligned, align_face(image, capture.face.landmarks))
    # not the crop that the 68 points' means would give
    from recognition.types import Landmarks

    assert not np.array_equal(capture.aligned, align_face(image, Landmarks(capture.face.landmarks.points)))


def test_a_small_face_in_a_large_frame_is_searched_again_at_twice_the_side(face_bytes, retinaface):
    image = decode_image(face_bytes("obama_small.jpg"))
    small = cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA)
    canvas = np.full((960, 1280, 3), 128, np.uint8)
    canvas[400:400 + small.shape[0], 600:600 + small.shape[1]] = small
    assert len(retinaface.raw(canvas, 320)[0]) == 0  # ~14 px at 320: too small for the net
    (face,) = retinaface.detect(canvas, 320)
    assert 600 <= face.box.centre[0] <= 600 + small.shape[1]


def test_hog_is_chosen_by_name(model_cache):
    pipeline = FacePipeline(cache_dir=model_cache, detector="hog")
    assert isinstance(pipeline.get_detector(), HogDetector)
    with pytest.raises(ValueError):
        get_detector("cnn")


def test_missing_retinaface_weights_fall_back_to_hog(monkeypatch, tmp_path, caplog, face_bytes):
    import recognition.detect as detect_module

    def missing(cache_dir=None):
        raise ModelNotAvailableError("missing RetinaFace weights")

    monkeypatch.setattr(detect_module, "load_retinaface_session", missing)
    with caplog.at_level(logging.WARNING, logger="recognition.detect"):
        detector = get_detector("retinaface", tmp_path)  # a cache dir of its own: not cached yet
    assert isinstance(detector, HogDetector)
    assert "RetinaFace is not available" in caplog.text
    _, capture = analyse_image(face_bytes("obama.jpg"), detector=detector)
    assert capture.face.landmarks.five is None  # HOG: aligned on the 68 points' means


def _input_as_before(small, height, width):
    """RetinaFace's input as it was built before the speed follow-up: BGR minus the mean in an HWC
    float copy, padded, then transposed (a non-contiguous view)."""
    h, w = small.shape[:2]
    x = np.zeros((height, width, 3), dtype=np.float32)
    x[:h, :w] = small[:, :, ::-1] - np.array([104.0, 117.0, 123.0], dtype=np.float32)
    return x.transpose(2, 0, 1)[None]


def test_the_contiguous_input_gives_the_same_tensor_and_the_same_embeddings(face_bytes, model_cache, monkeypatch):
    from recognition import detect

    small = decode_image(face_bytes("obama-240p.jpg"))
    assert np.array_equal(detect._input_tensor(small, 256, 448), _input_as_before(small, 256, 448))
    pipeline = FacePipeline(cache_dir=model_cache)
    photos = ["obama.jpg", "biden.jpg", "kit_harington_john1.jpeg", "rose_leslie_img1.jpg", "alex_lacamoire1.jpg"]
    now = np.stack([pipeline.encode_bytes(face_bytes(p))[1].vector for p in photos])
    monkeypatch.setattr(detect, "_input_tensor", _input_as_before)
    before = np.stack([pipeline.encode_bytes(face_bytes(p))[1].vector for p in photos])
    assert np.abs(now - before).max() <= 1e-5
