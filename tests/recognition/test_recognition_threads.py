"""Face detection gives the same answer from concurrent request threads as from one thread.

dlib's HOG detector is not safe to share between threads (a shared one returned wrong boxes for
about one call in six under four threads); each thread now gets its own.
"""
import threading

import cv2
import pytest

from recognition.detect import detect_faces


def test_concurrent_detection_matches_sequential(faces_dir):
    capture = cv2.VideoCapture(str(faces_dir / "talking_head.mp4"))
    frames = []
    for index in range(40):
        ok, frame = capture.read()
        if not ok:
            pytest.fail("talking_head.mp4 could not be read")
        if index % 8 == 0:
            frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    expected = [detect_faces(frame)[0].box for frame in frames]
    mismatches = []

    def work():
        for _ in range(6):
            for frame, box in zip(frames, expected):
                found = detect_faces(frame)
                if not found or found[0].box != box:
                    mismatches.append(box)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert mismatches == []
