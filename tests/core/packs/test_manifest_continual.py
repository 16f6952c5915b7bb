"""A continual version's manifest fields: `maps` validated like `heads`, `continual` naming its
statistics file; manifests without them read exactly as before."""

import pytest

from core.errors import PackError
from core.packs.manifest import Continual, parse_manifest

SHA = "0" * 64


def manifest(**fields) -> dict:
    files = ["enc.safetensors", "maps/text.safetensors", "continual/statistics.safetensors"]
    return {"format": 1, "name": "unit", "version": "2", "dim": 4, "parent": "unit@1",
            "encoders": {"text": {"arch": "a", "config": {}, "files": {"weights": files[0]}}},
            "heads": {},
            "files": [{"path": p, "sha256": SHA, "bytes": 1, "source": "t", "license": "MIT"}
                      for p in files],
            **fields}


MAP = {"arch": "linear_map", "config": {"dim": 4}, "files": {"weights": "maps/text.safetensors"}}
STATS = {"statistics": "continual/statistics.safetensors", "steps": [{"name": "one"}]}


def test_maps_and_continual_read_and_write_back(tmp_path):
    data = manifest(maps={"text": MAP}, continual=STATS)
    m = parse_manifest(data, tmp_path)
    assert m.maps["text"].files == {"weights": "maps/text.safetensors"}
    assert m.continual == Continual("continual/statistics.safetensors", ({"name": "one"},))
    assert parse_manifest(m.to_json(), tmp_path) == m
    plain = parse_manifest(manifest(), tmp_path)
    assert plain.maps == {} and plain.continual is None
    assert "maps" not in plain.to_json() and "continual" not in plain.to_json()


@pytest.mark.parametrize("fields, message", [
    ({"maps": {"smell": MAP}}, "'maps' names unknown modality 'smell'"),
    ({"maps": {"audio": MAP}}, "maps.audio maps a modality without an encoder"),
    ({"maps": {"text": {**MAP, "files": {"weights": "maps/x.safetensors"}}}},
     "maps.text uses 'maps/x.safetensors'"),
    ({"continual": {"statistics": "nope.safetensors"}}, "continual.statistics"),
    ({"continual": {**STATS, "steps": ["one"]}}, "continual.steps must be a list of objects"),
    ({"continual": []}, "'continual' must be an object"),
])
def test_bad_continual_fields_are_refused(tmp_path, fields, message):
    with pytest.raises(PackError, match=message.replace(".", r"\.").replace("(", r"\(")):
        parse_manifest(manifest(**fields), tmp_path)
