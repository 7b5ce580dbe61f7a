"""Write the MobileFaceNet parity fixtures with real PyTorch (run once, in a throwaway venv).

Not part of the project's run time or test run: it needs torch, which SkillTrace never installs.
It loads ``facesdk/model.pt`` with ``torch.load`` into facesdk's own ``MobileFaceNet`` class (its
module imported by file path, so facesdk's ``__init__`` is not run) and stores, for a few fixed
112×112 inputs, the embeddings PyTorch gives. ``tests/recognition/test_mobilefacenet_parity.py``
checks that the project's torch-free ONNX conversion gives the same numbers.

    python -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install --no-deps torch==2.13.0
    /tmp/torchvenv/bin/pip install numpy opencv-python-headless
    /tmp/torchvenv/bin/python scripts/data/recognition/make_reference_embeddings.py \
        --facesdk-dir /path/to/site-packages/facesdk --faces ../shared/faces \
        --out tests/recognition/data
"""

import argparse
import importlib.util
import json
import pathlib

import cv2
import numpy as np
import torch

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facesdk-dir", required=True, type=pathlib.Path)
    parser.add_argument("--faces", required=True, type=pathlib.Path)
    parser.add_argument("--out", required=True, type=pathlib.Path)
    args = parser.parse_args()

    spec = importlib.util.spec_from_file_location("mfn", args.facesdk_dir / "mobilefacenet.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.MobileFaceNet()
    model.load_state_dict(torch.load(args.facesdk_dir / "model.pt", map_location="cpu", weights_only=False))
    model.eval()

    crops = []
    # fixed hand-picked face regions (x, y, size) so the fixture does not depend on a detector
    for name, (x, y, s) in {"obama.jpg": (330, 120, 300), "biden.jpg": (400, 220, 360)}.items():
        img = cv2.imread(str(args.faces / name))[:, :, ::-1]  # RGB
        crops.append(cv2.resize(img[y : y + s, x : x + s], (112, 112), interpolation=cv2.INTER_AREA))
    rng = np.random.RandomState(20240601)
    crops.append(rng.randint(0, 256, size=(112, 112, 3)).astype(np.uint8))
    crops = np.stack(crops)
    x = ((crops.astype(np.float32) / 255.0 - MEAN) / STD).transpose(0, 3, 1, 2)
    with torch.no_grad():
        emb = model(torch.from_numpy(np.ascontiguousarray(x))).numpy()
    args.out.mkdir(parents=True, exist_ok=True)
    np.save(args.out / "mobilefacenet_parity_inputs.npy", crops)
    np.save(args.out / "mobilefacenet_parity_embeddings.npy", emb.astype(np.float32))
    (args.out / "mobilefacenet_parity.json").write_text(
        json.dumps({"torch": torch.__version__, "inputs": "uint8 (N,112,112,3) RGB", "normalise": "x/255, ImageNet mean/std, NCHW"}, indent=1)
    )
    print(emb.shape, emb[:, :4])


if __name__ == "__main__":
    main()
