"""python -m recognition verify --pairs: one JSON object per row, refusals with reasons."""

import json

from recognition.__main__ import main


def test_cli_verify_pairs_prints_decisions(tmp_path, faces_dir, model_cache, capsys):
    pairs = tmp_path / "pairs.csv"
    rows = [("obama.jpg", "obama2.jpg"), ("obama.jpg", "biden.jpg"), ("README.md", "obama.jpg"), ("two_people.jpg", "biden.jpg")]
    pairs.write_text("probe,reference\n" + "".join(f"{faces_dir / a},{faces_dir / b}\n" for a, b in rows))
    assert main(["verify", "--pairs", str(pairs), "--cache-dir", str(model_cache)]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [o["decision"] for o in out] == ["match", "no_match", "refused", "no_match"]
    assert out[2]["reason"] == "probe:unsupported_format" and out[2]["score"] is None
    assert out[0]["score"] < out[0]["threshold"] < out[1]["score"]
    assert main(["verify", "--pairs", str(pairs), "--cache-dir", str(model_cache), "--several-faces", "refuse"]) == 0
    strict = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert strict[3]["reason"] == "probe:several_faces"
