"""The demo pack's small encoders: shapes, normalisation and determinism; cached inputs and
preprocessed inputs give the same vectors; the frozen MiniLM is the pinned one and pools exactly
as sentence-transformers; each loads back from a pack through `core.encoders.runtime`."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from core.encoders.demo import (
    MINILM_SHA256,
    MelCNNEncoder,
    MiniLMTextEncoder,
    PointBERTTower,
    SmallImageEncoder,
    SmallPointEncoder,
    WordTextEncoder,
    build_vocabulary,
    fit_duration,
    group_clouds,
    load_minilm,
    log_mel,
    mel_filterbank,
    minilm_folder,
    words,
)
from core.encoders.pointbert import PointBERT, prepare_points
from core.errors import EmptyInputError, PackError

DIM = 32
IMAGE = {"width": 16, "heads": 4, "image_size": 32, "output_dim": DIM}
MEL = {"seconds": 1.0, "channels": [4, 8, 8, 16], "output_dim": DIM}
WORDS = {"width": 32, "layers": 2, "heads": 4, "max_tokens": 24, "output_dim": DIM}
POINTS = {"trans_dim": 48, "depth": 2, "num_heads": 4, "group_size": 8, "num_group": 16,
          "encoder_dims": 32, "embed_dim": DIM, "n_points": 256}
CAPTIONS = ["a worn gear", "the pump is leaking oil", "Loose bolt, rattling!",
            "inspection: a crack on the weld seam", "a healthy fan"]


def _images(n: int, seed: int = 0) -> list[Image.Image]:
    rng = np.random.default_rng(seed)
    return [Image.fromarray(rng.integers(0, 256, (40 + 7 * i, 52, 3), dtype=np.uint8))
            for i in range(n)]


def _waves(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(0, 0.1, int(16000 * s)).astype(np.float32)
            for s in (0.4, 1.0, 2.5, 0.7)[:n]]


def _clouds(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(300 + 50 * i, 3)) * [1.0, 0.5, 0.3]).astype(np.float32)
            for i in range(n)]


def _check_vectors(out: torch.Tensor, n: int) -> None:
    assert out.shape == (n, DIM) and out.dtype == torch.float32 and out.device.type == "cpu"
    assert not out.requires_grad
    assert torch.allclose(out.norm(dim=1), torch.ones(n), atol=1e-5)


def _encode(encoder, items):
    return encoder.forward(encoder.collate([encoder.preprocess(i) for i in items]))


# --------------------------------------------------------------------------- image


def test_image_preprocess_resizes_crops_and_normalises():
    enc = SmallImageEncoder(IMAGE)
    wide = Image.new("RGB", (100, 50), (255, 0, 0))
    x = enc.preprocess(wide)
    assert x.shape == (3, 32, 32) and x.dtype == torch.float32
    red = (1.0 - 0.48145466) / 0.26862954
    assert torch.allclose(x[0], torch.full((32, 32), red), atol=1e-4)
    pixels = enc.cache_item(wide)
    assert pixels.dtype == torch.uint8 and pixels.shape == (3, 32, 32)


def test_image_encoder_is_normalised_deterministic_and_same_from_cached_pixels():
    images = _images(3)
    a, b = SmallImageEncoder(IMAGE, seed=5), SmallImageEncoder(IMAGE, seed=5)
    out = _encode(a, images)
    _check_vectors(out, 3)
    assert torch.equal(out, _encode(b, images))
    assert torch.equal(out, _encode(a, images))
    assert not torch.allclose(out, _encode(SmallImageEncoder(IMAGE, seed=6), images))
    cached = torch.stack([a.cache_item(i) for i in images])
    assert torch.allclose(a.forward(cached), out, atol=1e-6)
    assert a.tower(cached).requires_grad  # the tower trains


def test_image_tower_is_open_clip_modified_resnet():
    from open_clip.modified_resnet import ModifiedResNet

    assert isinstance(SmallImageEncoder(IMAGE).tower.net, ModifiedResNet)


def test_forward_keeps_the_tower_in_training_mode_if_it_was():
    enc = SmallImageEncoder(IMAGE)
    enc.tower.train()
    enc.forward(torch.stack([enc.preprocess(i) for i in _images(2)]))
    assert enc.tower.training


# --------------------------------------------------------------------------- audio


def test_fit_duration_crops_the_centre_and_repeats_short_clips():
    x = np.arange(10, dtype=np.float32)
    assert np.array_equal(fit_duration(x, 4), [3, 4, 5, 6])
    assert np.array_equal(fit_duration(x[:3], 7), [0, 1, 2, 0, 1, 2, 0])


def test_mel_filterbank_and_log_mel_put_a_tone_in_its_band():
    bank = mel_filterbank(16000, 1024, 64, 20.0, 8000.0)
    assert bank.shape == (64, 513) and (bank.sum(dim=1) > 0).all()
    t = np.arange(16000) / 16000
    mel = log_mel(np.sin(2 * np.pi * 1000 * t).astype(np.float32))
    assert mel.shape == (64, 1 + 16000 // 320)
    peak = int(mel[:, 10:-10].mean(dim=1).argmax())
    freqs = np.linspace(0, 8000, 513)
    assert abs(freqs[int(bank[peak].argmax())] - 1000) < 100


def test_mel_encoder_shapes_rate_and_same_from_cache():
    enc = MelCNNEncoder(MEL, seed=1)
    assert enc.rate == 16000
    waves = _waves(4)
    items = [enc.preprocess(w) for w in waves]
    assert all(i.shape == (64, 51) and i.dtype == torch.float32 for i in items)
    out = enc.forward(enc.collate(items))
    _check_vectors(out, 4)
    assert torch.equal(out, MelCNNEncoder(MEL, seed=1).forward(enc.collate(items)))
    cached = torch.stack([enc.cache_item(w) for w in waves])
    assert cached.dtype == torch.float16
    assert torch.allclose(enc.forward(cached), out, atol=1e-6)
    with pytest.raises(EmptyInputError):
        enc.preprocess(np.zeros(0, np.float32))


# --------------------------------------------------------------------------- word-level text


def test_words_vocabulary_and_tokens():
    assert words("Loose bolt, rattling! 3x") == ["loose", "bolt", "rattling", "x"]
    vocab = build_vocabulary(CAPTIONS)
    assert vocab[:2] == ["<pad>", "<unk>"] and vocab[2] == "a"  # most frequent first
    enc = WordTextEncoder(vocab, WORDS)
    ids = enc.preprocess("A WORN gear, unseen-word")
    assert ids.shape == (24,) and ids.dtype == torch.long
    assert ids[:5].tolist() == [vocab.index("a"), vocab.index("worn"), vocab.index("gear"), 1, 1]
    assert (ids[5:] == 0).all()
    assert (enc.preprocess("gear " * 40) != 0).sum() == 24
    assert enc.preprocess("1234").tolist()[:2] == [1, 0]
    with pytest.raises(EmptyInputError):
        enc.preprocess("   ")


def test_word_encoder_normalised_deterministic_and_ignores_padding():
    vocab = build_vocabulary(CAPTIONS)
    enc = WordTextEncoder(vocab, WORDS, seed=3)
    out = _encode(enc, CAPTIONS)
    _check_vectors(out, len(CAPTIONS))
    assert torch.equal(out, _encode(WordTextEncoder(vocab, WORDS, seed=3), CAPTIONS))
    alone = _encode(enc, CAPTIONS[:1])
    assert torch.allclose(alone[0], out[0], atol=1e-6)
    short = WordTextEncoder(vocab, {**WORDS, "max_tokens": 8}, seed=3)
    short.tower.load_state_dict({k: v[:8] if k == "pos" else v
                                 for k, v in enc.tower.state_dict().items()})
    assert torch.allclose(_encode(short, CAPTIONS[:1]), alone, atol=1e-5)  # padding is inert


def test_word_vocabulary_must_start_with_pad_and_unk():
    with pytest.raises(ValueError):
        WordTextEncoder(["a", "b"], WORDS)


# --------------------------------------------------------------------------- MiniLM


def test_minilm_pools_exactly_like_sentence_transformers():
    import sentence_transformers  # a pinned dependency: it must load the packaged model offline

    reference = sentence_transformers.SentenceTransformer(
        str(minilm_folder()), device="cpu", local_files_only=True)
    expected = torch.from_numpy(reference.encode(CAPTIONS, convert_to_numpy=True))
    enc = MiniLMTextEncoder({"output_dim": DIM}, seed=0)
    got = enc.features(enc.collate([enc.preprocess(c) for c in CAPTIONS]))
    assert got.shape == (len(CAPTIONS), 384)
    assert torch.allclose(got, expected, atol=1e-5)


def test_minilm_encoder_projects_and_normalises():
    enc = MiniLMTextEncoder({"output_dim": DIM}, seed=0)
    batch = enc.collate([enc.preprocess(c) for c in CAPTIONS])
    out = enc.forward(batch)
    _check_vectors(out, len(CAPTIONS))
    assert torch.equal(out, MiniLMTextEncoder({"output_dim": DIM}, seed=0).forward(batch))
    features = enc.cache_batch(batch)
    assert torch.allclose(torch.nn.functional.normalize(enc.tower(features), dim=-1), out,
                          atol=1e-6)
    assert [p.requires_grad for p in enc.tower.parameters()] == [True, True]
    assert not any(p.requires_grad for p in enc.minilm.model.parameters())


def test_tampered_minilm_is_refused(tmp_path):
    copy = tmp_path / "minilm"
    shutil.copytree(minilm_folder(), copy)
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x01
    weights.write_bytes(bytes(data))
    with pytest.raises(PackError, match="sha256"):
        load_minilm(copy)
    weights.unlink()
    with pytest.raises(PackError):
        load_minilm(copy)


def test_minilm_config_must_name_the_pinned_model():
    assert MiniLMTextEncoder({"output_dim": DIM}).config()["minilm_sha256"] == MINILM_SHA256
    with pytest.raises(PackError):
        MiniLMTextEncoder({"output_dim": DIM, "minilm_sha256": "0" * 64})


# --------------------------------------------------------------------------- 3D


def test_grouped_training_path_computes_plain_pointbert(tmp_path):
    enc = SmallPointEncoder(POINTS, seed=2)
    assert isinstance(enc.tower, PointBERTTower)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():  # random BatchNorm statistics, so eval-mode BN matters
        for name, t in enc.tower.state_dict().items():
            if name.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=gen) + 0.5)
            elif name.endswith("running_mean"):
                t.copy_(torch.randn(t.shape, generator=gen) * 0.1)
    enc.round_for_storage()  # the weights a pack stores (float16 matrices), as `plain` loads
    clouds = torch.stack([enc.preprocess(c) for c in _clouds(4)])
    assert clouds.shape == (4, 256, 3)
    plain = PointBERT(enc.model.config)
    plain.load_state_dict(enc.state_tensors(), strict=True)
    plain.eval()
    with torch.no_grad():
        expected = plain(clouds)
    grouped = enc.cache_batch(clouds)
    assert grouped.shape == (4, 16, 9, 3)
    enc.tower.eval()
    with torch.no_grad():
        assert torch.allclose(enc.tower(grouped), expected, atol=1e-5)
        assert torch.allclose(enc.tower(clouds), expected, atol=1e-6)
    out = enc.forward(clouds)
    _check_vectors(out, 4)
    assert torch.allclose(out, torch.nn.functional.normalize(expected, dim=-1), atol=1e-6)
    # In training mode too (BatchNorm on batch statistics), gradients included.
    plain.train()
    enc.tower.train()
    a, b = plain(clouds), enc.tower(grouped)
    assert torch.allclose(a, b, atol=1e-4)
    a.square().sum().backward()
    b.square().sum().backward()
    for (name, p), q in zip(plain.named_parameters(), enc.tower.parameters(), strict=True):
        assert torch.allclose(p.grad, q.grad, atol=1e-3, rtol=1e-3), name


def test_grouping_a_batch_equals_grouping_each_cloud():
    enc = SmallPointEncoder(POINTS)
    clouds = torch.stack([prepare_points(c, 256) for c in _clouds(3)])
    together = group_clouds(clouds, enc.model.config)
    for i in range(3):
        assert torch.equal(together[i:i + 1], group_clouds(clouds[i:i + 1], enc.model.config))


# --------------------------------------------------------------------------- packs


def test_every_demo_encoder_loads_back_from_a_pack(tmp_path):
    from core.encoders.runtime import ENCODER_ARCHS, PackModels
    from core.packs.manifest import Component
    from core.packs.writer import PackFile, write_pack

    for arch in ("small_image", "mel_cnn", "word_text", "minilm_projected", "pointbert"):
        assert arch in ENCODER_ARCHS
    vocab = build_vocabulary(CAPTIONS)
    leaf = {"image": SmallImageEncoder(IMAGE, seed=1), "audio": MelCNNEncoder(MEL, seed=2),
            "text": WordTextEncoder(vocab, WORDS, seed=3), "3d": SmallPointEncoder(POINTS)}
    base = {"text": MiniLMTextEncoder({"output_dim": DIM}, seed=4)}
    inputs = {"image": _images(2), "audio": _waves(2), "text": CAPTIONS, "3d": _clouds(2)}
    for name, encoders in (("leaf", leaf), ("base", base)):
        files, components = {}, {}
        for m, enc in encoders.items():
            enc.round_for_storage()  # the files hold float16 matrices
            tensors = enc.state_tensors()
            assert {v.dtype for k, v in tensors.items() if v.dim() >= 2} == {torch.float16}
            assert all(v.dtype != torch.float16 for v in tensors.values() if v.dim() < 2)
            refs = {"weights": f"{m}.safetensors"}
            files[refs["weights"]] = PackFile(tensors, "test", "MIT")
            if isinstance(enc, WordTextEncoder):
                refs["vocab"] = "vocab.json"
                files["vocab.json"] = PackFile(json.dumps(enc.vocabulary).encode(), "test",
                                               "MIT")
            components[m] = Component(enc.arch, enc.config(), refs)
        pack = write_pack(tmp_path / name, name=name, version="1", dim=DIM,
                          encoders=components, files=files)
        models = PackModels(pack, torch.device("cpu"))
        for m, enc in encoders.items():
            loaded = models.encoder(m)
            assert type(loaded).__name__ == type(enc).__name__ or m == "3d"
            expected = _encode(enc, inputs[m])
            assert torch.allclose(_encode(loaded, inputs[m]), expected, atol=1e-6), m
