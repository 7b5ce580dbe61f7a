"""Liveness on frames of talking_head.mp4 (a real person who blinks and turns) and on still photos."""

import numpy as np
import pytest

from recognition import check_liveness, new_challenge
from recognition.pipeline import select_face
from recognition.quality import QualityPolicy
from recognition_helpers import encode_jpeg

LOOSE = QualityPolicy(max_yaw=1.5, max_pitch=1.5)


def _observe(pipeline, images):
    captures = [select_face(img, LOOSE) for img in images]
    encoder = pipeline.get_encoder()
    return captures, [encoder.encode(img, c) for img, c in zip(images, captures)]


def _run(pipeline, action, images):
    captures, encodings = _observe(pipeline, images)
    return check_liveness(action, images, captures, encodings)


@pytest.fixture
def mfn(pipelines):
    return pipelines["mobilefacenet"]


def test_liveness_blink_seen_in_video(mfn, talking_head_frames):
    frames = [talking_head_frames[i] for i in (18, 24, 30)]  # eyes open, closed, open
    result = _run(mfn, "blink", frames)
    assert result.passed, result
    assert not _run(mfn, "blink", [talking_head_frames[i] for i in (90, 96, 102)]).passed


def test_liveness_turns_seen_in_video_in_the_right_direction(mfn, talking_head_frames):
    right = [talking_head_frames[i] for i in (21, 30, 36)]  # nose moves towards the image's left
    assert _run(mfn, "turn_right", right).passed
    assert _run(mfn, "turn_left", right).reason == "action_not_seen"
    left = [talking_head_frames[i] for i in (165, 171, 177)]
    assert _run(mfn, "turn_left", left).passed
    assert not _run(mfn, "turn_right", left).passed


def test_liveness_repeated_still_frame_fails(mfn, talking_head_frames):
    still = talking_head_frames[24]
    for action in ("blink", "turn_left", "turn_right"):
        result = _run(mfn, action, [still, still.copy(), still.copy()])
        assert result.reason == "frames_identical"


def test_liveness_held_up_photo_moved_about_fails(mfn, face_bytes):
    from recognition import decode_image

    photo = decode_image(face_bytes("obama-480p.jpg"))
    frames = [np.roll(photo, shift, axis=1) for shift in (0, 6, 12, 18)]
    frames = [np.clip(f.astype(np.int16) + d, 0, 255).astype(np.uint8) for f, d in zip(frames, (0, 8, -8, 4))]
    for action in ("blink", "turn_left", "turn_right"):
        result = _run(mfn, action, frames)
        assert not result.passed and result.reason == "action_not_seen", result


def test_liveness_frames_of_another_person_fail(mfn, talking_head_frames, face_bytes):
    from recognition import decode_image

    other = decode_image(face_bytes("obama-480p.jpg"))
    result = _run(mfn, "blink", [talking_head_frames[18], talking_head_frames[24], other])
    assert result.reason == "different_faces"


def test_liveness_too_few_frames_and_unknown_action(mfn, talking_head_frames):
    frames = [talking_head_frames[0], talking_head_frames[24]]
    assert _run(mfn, "blink", frames).reason == "too_few_frames"
    assert _run(mfn, "smile", frames + [talking_head_frames[30]]).reason == "unknown_action"


def test_pipeline_check_liveness_from_jpeg_bytes_returns_frontal_encoding(mfn, talking_head_frames):
    frames = [encode_jpeg(talking_head_frames[i]) for i in (21, 30, 36)]
    result, encoding = mfn.check_liveness("turn_right", frames)
    assert result.passed and encoding is not None and encoding.encoder == "mobilefacenet"
    refused, none = mfn.check_liveness("turn_right", [frames[0], b"", frames[2]])
    assert not refused.passed and refused.reason == "frame_1:empty" and none is None


def test_new_challenge_is_random():
    challenges = [new_challenge() for _ in range(60)]
    assert {c.action for c in challenges} == {"blink", "turn_left", "turn_right"}
    assert len({c.nonce for c in challenges}) == 60
