"""Model packs: verified before use, tampering and unsafe files refused with their own message."""

import json
import os
import pickle
import zipfile

import pytest
import torch

from core.errors import PackError, UsageError
from core.packs.manifest import Component
from core.packs.store import Pack, find_packs, import_pack, resolve_pack
from core.packs.writer import PackFile, write_pack

WEIGHTS = "weights/head.safetensors"


def _make(folder, version="1", **extra_files):
    tensors = {"w": torch.arange(6, dtype=torch.float32).reshape(2, 3)}
    files = {WEIGHTS: PackFile(tensors, "made by a test", "MIT"), **extra_files}
    encoders = {"text": Component("test-arch", {"width": 3}, {"weights": WEIGHTS})}
    return write_pack(folder, name="unit", version=version, dim=3, encoders=encoders,
                      files=files)


def test_written_pack_verifies_and_loads_its_tensors(tmp_path):
    pack = _make(tmp_path / "p")
    assert pack.verify() == []
    assert torch.equal(pack.tensors(WEIGHTS)["w"], torch.arange(6.0).reshape(2, 3))
    assert pack.manifest.encoders["text"].config == {"width": 3}
    assert not list(tmp_path.glob(".*partial"))


def test_tampered_weight_file_is_refused(tmp_path):
    pack = _make(tmp_path / "p")
    path = pack.folder / WEIGHTS
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01  # same size, one bit flipped in the tensor data
    path.write_bytes(bytes(data))
    with pytest.raises(PackError, match="does not match its sha256"):
        pack.tensors(WEIGHTS)
    assert any("sha256" in p for p in pack.verify())


def test_truncated_weight_file_is_refused_by_size(tmp_path):
    pack = _make(tmp_path / "p")
    path = pack.folder / WEIGHTS
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(PackError, match="bytes, the manifest says"):
        pack.tensors(WEIGHTS)


def test_missing_file_is_refused(tmp_path):
    pack = _make(tmp_path / "p")
    (pack.folder / WEIGHTS).unlink()
    with pytest.raises(PackError, match="is missing"):
        pack.tensors(WEIGHTS)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: m.update(format=99), "format 99"),
        (lambda m: m["files"][0].update(sha256="abc"), "needs a sha256"),
        (lambda m: m["files"][0].update(path="../../etc/passwd"), "outside the pack"),
        (lambda m: m["files"][0].pop("license"), "provenance and licence"),
        (lambda m: m["encoders"]["text"]["files"].update(weights="other.bin"), "not listed"),
        (lambda m: m["encoders"].update(smell={"arch": "x"}), "unknown modality"),
    ],
)
def test_wrong_manifest_is_refused_with_its_reason(tmp_path, change, message):
    pack = _make(tmp_path / "p")
    manifest = json.loads((pack.folder / "manifest.json").read_text())
    change(manifest)
    (pack.folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(PackError, match=message):
        Pack.open(pack.folder)


def test_manifest_that_is_not_json_is_refused(tmp_path):
    pack = _make(tmp_path / "p")
    (pack.folder / "manifest.json").write_text("{not json")
    with pytest.raises(PackError, match="not valid JSON"):
        Pack.open(pack.folder)


class _Payload:
    def __reduce__(self):
        return (os.system, ("touch /tmp/mcr-pwned",))


def test_pickle_with_a_payload_is_refused_and_never_runs(tmp_path):
    evil = tmp_path / "evil.pt"
    with open(evil, "wb") as f:
        pickle.dump({"state_dict": {"w": _Payload()}}, f)
    pack = _make(tmp_path / "p", **{"weights/evil.pt": PackFile(evil, "unknown", "unknown")})
    with pytest.raises(PackError, match="needs pickled code"):
        pack.tensors("weights/evil.pt")
    assert not os.path.exists("/tmp/mcr-pwned")


def test_torch_file_of_plain_tensors_loads_with_weights_only(tmp_path):
    plain = tmp_path / "plain.pt"
    torch.save({"state_dict": {"w": torch.ones(2)}}, plain)
    pack = _make(tmp_path / "p", **{"weights/plain.pt": PackFile(plain, "test", "MIT")})
    assert torch.equal(pack.tensors("weights/plain.pt")["w"], torch.ones(2))


def test_a_version_is_never_overwritten(tmp_path):
    _make(tmp_path / "p")
    with pytest.raises(PackError, match="never overwritten"):
        _make(tmp_path / "p")


def test_import_folder_then_find_and_resolve_newest(tmp_path):
    import_pack(_make(tmp_path / "a", version="1").folder)
    import_pack(_make(tmp_path / "b", version="2").folder)
    names = [f.pack.ref for f in find_packs() if f.pack]
    assert "unit@1" in names and "unit@2" in names
    assert resolve_pack("unit").ref == "unit@2"
    assert resolve_pack("unit@1").ref == "unit@1"
    with pytest.raises(UsageError, match="mcr pack list"):
        resolve_pack("nope")
    with pytest.raises(PackError, match="already installed"):
        import_pack(tmp_path / "a")


def test_import_zip_of_a_pack(tmp_path):
    pack = _make(tmp_path / "z", version="7")
    archive = tmp_path / "unit.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for path in pack.folder.rglob("*"):
            if path.is_file():
                z.write(path, "unit-7/" + str(path.relative_to(pack.folder)))
    installed = import_pack(archive)
    assert installed.ref == "unit@7" and installed.verify() == []


def test_import_refuses_a_tampered_pack_and_keeps_nothing(tmp_path):
    pack = _make(tmp_path / "t", version="9")
    (pack.folder / WEIGHTS).write_bytes(b"0" * (pack.folder / WEIGHTS).stat().st_size)
    with pytest.raises(PackError, match="sha256"):
        import_pack(pack.folder)
    assert not any(f.pack and f.pack.ref == "unit@9" for f in find_packs())


@pytest.mark.parametrize(
    "name, message", [("../escape.txt", "outside the pack"), ("/abs.txt", "outside the pack")])
def test_zip_with_escaping_paths_is_refused(tmp_path, name, message):
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(name, "x")
    with pytest.raises(PackError, match=message):
        import_pack(archive)
    assert not (tmp_path / "escape.txt").exists()


def test_zip_with_a_symlink_is_refused(tmp_path):
    archive = tmp_path / "link.zip"
    info = zipfile.ZipInfo("pack/link")
    info.external_attr = (0o120777 << 16)
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(info, "/etc/passwd")
    with pytest.raises(PackError, match="symbolic link"):
        import_pack(archive)


def test_zip_bomb_is_refused_before_unpacking(tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("pack/zeros.bin", b"\0" * (64 * 2**20))
    with pytest.raises(PackError, match="zip bomb"):
        import_pack(archive)


def test_not_a_pack_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(PackError, match="neither a pack folder nor a .zip"):
        import_pack(tmp_path / "notes.txt")
