"""The package's shape: exported names, no web imports, docstrings, module size."""

import ast
import pathlib

import recognition

PACKAGE = pathlib.Path(recognition.__file__).parent

EXPECTED = {
    "ACTIONS", "DEFAULT_DETECTOR", "DEFAULT_ENCODER", "DEFAULT_ROSTER_RULE", "DEFAULT_THRESHOLDS", "DETECTORS", "ENCODERS", "REFUSAL_REASONS", "Capture", "Challenge",
    "DecodeLimits", "Encoding", "EnrolmentRejected", "Face", "FaceBox", "FacePipeline", "Gallery", "ImageRefused",
    "Landmarks", "LivenessPolicy", "LivenessResult", "Match", "ModelNotAvailableError", "Quality", "QualityPolicy",
    "RecognitionError", "RosterRule", "Template", "TemplateCipher", "TemplateError", "align_face", "analyse_image",
    "check_liveness", "compare_encodings", "decode_image", "default_threshold", "detect_faces", "encode_face",
    "enrol_template", "generate_key", "get_detector", "get_encoder", "new_challenge", "parse_keys", "select_face", "verify",
}


def test_package_exports_exactly_the_documented_names():
    assert set(recognition.__all__) == EXPECTED
    assert len(recognition.__all__) == len(set(recognition.__all__))
    for name in recognition.__all__:
        assert hasattr(recognition, name), name


def _modules():
    return sorted(PACKAGE.glob("*.py"))


def test_package_imports_no_web_or_app_code():
    forbidden = {"flask", "sqlalchemy", "flask_sqlalchemy", "app", "lrs", "torch", "torchvision", "facesdk"}
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{path.name} imports {name}"


def test_package_modules_have_docstrings_and_all_and_stay_small():
    for path in _modules():
        tree = ast.parse(path.read_text())
        assert ast.get_docstring(tree), f"{path.name} has no module docstring"
        assert len(path.read_text().splitlines()) < 400, f"{path.name} is over 400 lines"
        if path.name != "__main__.py":
            assigned = {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
            assert "__all__" in assigned, f"{path.name} declares no __all__"
