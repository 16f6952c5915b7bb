"""`mcr pack build-real` end to end, offline: random weights saved in every official layout are
"downloaded" by a fake fetcher, converted, written as a verified pack, and load back through the
engine's encoders with outputs equal to the modules they came from."""

import numpy as np
import pytest
import torch

from core.errors import PackError, ResourceUnavailableError
from core.packs import real
from tests.official_layouts import (
    clap_checkpoint,
    openai_clip_state_dict,
    randomise_,
    roberta_text_files,
    ulip2_checkpoint,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def official(tmp_path_factory):
    """Files as the public URLs serve them, and the modules they were saved from."""
    import open_clip

    from core.alignment.heads import ExMCRHead
    from core.encoders.clap import build_clap_model, load_text_config
    from core.encoders.pointbert import PointBERT

    folder = tmp_path_factory.mktemp("official")
    torch.manual_seed(0)
    text = roberta_text_files(folder / "roberta")
    clip = open_clip.create_model("ViT-B-32", pretrained=None, force_quick_gelu=True).eval()
    clap, _ = build_clap_model(load_text_config(text), "HTSAT-tiny", enable_fusion=True)
    pointbert = randomise_(PointBERT())
    heads = {"exmcr_clap": randomise_(ExMCRHead()), "exmcr_ulip": randomise_(ExMCRHead())}
    files = {
        "clip": openai_clip_state_dict(clip),
        "clap": clap_checkpoint(randomise_(clap)),
        "ulip2": ulip2_checkpoint(pointbert),
        **{k: h.state_dict() for k, h in heads.items()},
    }
    served = {}
    for key, obj in files.items():
        torch.save(obj, folder / f"{key}.pt")
        served[key] = folder / f"{key}.pt"
    for key, name in (("roberta_config", "config.json"), ("roberta_vocab", "vocab.json"),
                      ("roberta_merges", "merges.txt")):
        served[key] = text / name
    return {"served": served, "clip": clip, "clap": clap, "pointbert": pointbert, **heads}


@pytest.fixture()
def registry(monkeypatch, official):
    """The real registry, with CLIP's pinned hash (of the real OpenAI file) left unpinned."""
    data = real.load_registry()
    data["sources"]["clip"]["sha256"] = None
    monkeypatch.setattr(real, "load_registry", lambda: data)
    return data


def _fetcher(official):
    by_url = {s["url"]: key for key, s in real.load_registry()["sources"].items()}

    def fetch(url, dest):
        dest.write_bytes(official["served"][by_url[url]].read_bytes())

    return fetch


def test_build_real_converts_every_official_layout_into_a_verified_pack(
        official, registry, tmp_path):
    from core.encoders.runtime import PackModels

    pack = real.build_real_pack(tmp_path / "real", fetch=_fetcher(official), pin_new_hashes=True)
    assert pack.verify() == []
    assert set(pack.manifest.encoders) == {"image", "text", "audio", "3d"}
    assert set(pack.manifest.extra["sources"]) == set(registry["sources"])
    models = PackModels(pack, torch.device("cpu"))

    text = models.encoder("text")
    tokens = text.collate([text.preprocess("a cracked gear")])
    expected = torch.nn.functional.normalize(official["clip"].encode_text(tokens), dim=-1)
    assert torch.allclose(text.forward(tokens), expected, atol=1e-6)

    cloud = np.random.default_rng(0).normal(size=(9000, 3)).astype(np.float32)
    enc3d = models.encoder("3d")
    batch = enc3d.collate([enc3d.preprocess(cloud)])
    with torch.no_grad():
        leaf = torch.nn.functional.normalize(official["pointbert"](batch), dim=-1)
        expected = official["exmcr_ulip"].leaf_only(leaf)
    assert torch.allclose(enc3d.forward(batch), expected, atol=1e-5)
    assert models.encoder("image").dim == 512


def test_audio_of_the_real_pack_embeds_through_clap_fusion_and_its_head(
        official, registry, tmp_path):
    from core.encoders.runtime import PackModels

    pack = real.build_real_pack(tmp_path / "real", fetch=_fetcher(official), pin_new_hashes=True)
    audio = PackModels(pack, torch.device("cpu")).encoder("audio")
    wave = np.random.default_rng(1).uniform(-0.3, 0.3, 48_000 * 3).astype(np.float32)
    vectors = audio.forward(audio.collate([audio.preprocess(wave)]))
    assert vectors.shape == (1, 512)
    assert torch.allclose(vectors.norm(dim=-1), torch.ones(1))


def test_pack_test_command_loads_every_modality(official, registry, tmp_path, capsys):
    from core.cli.main import main

    pack = real.build_real_pack(tmp_path / "real", fetch=_fetcher(official), pin_new_hashes=True)
    assert main(["pack", "test", str(pack.folder), "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "real@1 on CPU" in out
    for modality in ("image", "text", "audio", "3d"):
        assert f"  {modality:<6} 512-d" in out


def test_unpinned_download_is_refused_without_the_flag(official, registry, tmp_path):
    with pytest.raises(PackError, match="--pin-new-hashes"):
        real.build_real_pack(tmp_path / "real", fetch=_fetcher(official))
    assert not (tmp_path / "real").exists()


def test_download_that_differs_from_its_pinned_hash_is_refused(official, tmp_path):
    with pytest.raises(PackError, match="registry pins"):
        real.build_real_pack(tmp_path / "real", fetch=_fetcher(official), pin_new_hashes=True)
    assert not (tmp_path / "real").exists()


def test_offline_build_fails_at_once_and_says_where_to_run_it(monkeypatch, tmp_path):
    import urllib.error
    import urllib.request

    def no_route(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", no_route)
    with pytest.raises(ResourceUnavailableError, match="mcr pack import"):
        real.build_real_pack(tmp_path / "real")
