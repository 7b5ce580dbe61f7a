"""Model loading: torch-free conversion matches PyTorch, the legacy reader is safe, missing models raise."""

import io
import pathlib
import pickle

import numpy as np
import pytest

from recognition.errors import ModelNotAvailableError
from recognition.models import load_mobilefacenet_session, mobilefacenet_onnx_path, package_dir
from recognition.torch_legacy import TorchFormatError, load_legacy_state_dict

DATA = pathlib.Path(__file__).parent / "data"
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def test_mobilefacenet_onnx_matches_pytorch_reference(model_cache):
    crops = np.load(DATA / "mobilefacenet_parity_inputs.npy")
    expected = np.load(DATA / "mobilefacenet_parity_embeddings.npy")
    session = load_mobilefacenet_session(model_cache)
    x = ((crops.astype(np.float32) / 255.0 - MEAN) / STD).transpose(0, 3, 1, 2)
    got = session.run(["embedding"], {"input": np.ascontiguousarray(x)})[0]
    assert got.shape == expected.shape == (3, 128)
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-4)


def test_mobilefacenet_onnx_is_generated_once_in_cache_dir(model_cache):
    path = mobilefacenet_onnx_path(model_cache)
    assert path.parent == pathlib.Path(model_cache) and path.suffix == ".onnx"
    mtime = path.stat().st_mtime_ns
    assert mobilefacenet_onnx_path(model_cache) == path and path.stat().st_mtime_ns == mtime


def test_legacy_reader_reads_facesdk_weights():
    state = load_legacy_state_dict((package_dir("facesdk") / "model.pt").read_bytes())
    assert state["conv1.0.weight"].shape == (64, 3, 3, 3)
    assert state["conv3.weight"].shape == (128, 512, 1, 1)
    assert all(np.isfinite(v).all() for v in state.values() if v.dtype.kind == "f")


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_legacy_reader_refuses_arbitrary_globals():
    buf = io.BytesIO()
    for obj in (0x1950A86A20F9469CFC6C, 1001, {}):
        pickle.dump(obj, buf, protocol=2)
    pickle.dump({"w": _Evil()}, buf, protocol=2)
    with pytest.raises(TorchFormatError):
        load_legacy_state_dict(buf.getvalue())
    with pytest.raises(TorchFormatError):
        load_legacy_state_dict(b"not a torch file")


def test_package_dir_raises_model_not_available_for_missing_package():
    with pytest.raises(ModelNotAvailableError):
        package_dir("skilltrace_no_such_model_package")


def test_the_flip_batch_is_built_as_the_arithmetic_builds_it_and_embeds_the_same(model_cache):
    """The encoder's input (table lookup, mirrored after normalising, one batch of 2N) equals the
    straightforward arithmetic on the crops and their mirrors, and the embeddings agree to 1e-5."""
    from recognition.encode import _MEAN, _STD, MobileFaceNetEncoder, _input_batch

    crops = np.random.default_rng(3).integers(0, 256, (3, 112, 112, 3), dtype=np.uint8)
    both = np.concatenate([crops, crops[:, :, ::-1]]).astype(np.float32) / 255.0
    expected = np.ascontiguousarray(((both - _MEAN) / _STD).transpose(0, 3, 1, 2))
    assert np.array_equal(_input_batch(crops, flip=True), expected)
    assert np.array_equal(_input_batch(crops, flip=False), expected[:3])
    encoder = MobileFaceNetEncoder(model_cache)
    out = load_mobilefacenet_session(model_cache).run(["embedding"], {"input": expected})[0]
    summed = out[:3] + out[3:]
    reference = summed / np.linalg.norm(summed, axis=1, keepdims=True)
    assert np.abs(encoder.embed_crops(crops) - reference).max() <= 1e-5
