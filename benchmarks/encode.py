"""Encoder throughput: the full path (file on disk -> vector, decoding overlapped with compute)
against the bare forward on pre-decoded tensors at the same batch size, per encoder, in one run.

    python benchmarks/encode.py [--quick]

Models are the real architectures (CLIP ViT-B/32, CLAP HTSAT-tiny, ULIP-2 PointBERT) with
random weights; files come from a freshly generated demo world. Target: full/bare >= 0.9."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401  (puts the repo on sys.path)
import torch
from _common import peak_memory_mib, report, reset_peak_memory

from core.encoders.pipeline import decoder_for, embed_files
from core.world.build import render_chunk
from core.world.plan import plan_world


def make_encoders(tmp: Path) -> dict:
    import open_clip

    from core.encoders.clap import (
        ClapAudioEncoder,
        build_clap_model,
        load_clap,
        load_text_config,
    )
    from core.encoders.clip import ClipImageEncoder, build_clip
    from core.encoders.pointbert import PointBERT, PointBERTEncoder
    from tests.official_layouts import roberta_text_files

    clip = build_clip({"model_cfg": open_clip.get_model_config("ViT-B-32"), "quick_gelu": True},
                      None, "cpu")
    text_dir = roberta_text_files(tmp / "roberta")
    clap_model, _ = build_clap_model(load_text_config(text_dir))
    clap = load_clap(clap_model.state_dict(), text_dir)
    return {
        "clip_image": ClipImageEncoder(clip),
        "clap_audio": ClapAudioEncoder(clap),
        "pointbert_3d": PointBERTEncoder(PointBERT().eval(), "cpu", n_points=8192),
    }


def measure(name, encoder, paths, batch_size) -> dict:
    decode = decoder_for(encoder)
    tensors = [encoder.preprocess(decode(p)) for p in paths]
    batches = [tensors[i:i + batch_size] for i in range(0, len(tensors), batch_size)]
    encoder.forward(encoder.collate(batches[0]))  # warm-up

    def bare_rate() -> float:
        start = time.perf_counter()
        for batch in batches:
            encoder.forward(encoder.collate(batch))
        return len(paths) / (time.perf_counter() - start)

    before = bare_rate()
    reset_peak_memory()
    start = time.perf_counter()
    result = embed_files(encoder, paths, batch_size=batch_size, workers=2)
    full = len(result.ok) / (time.perf_counter() - start)
    assert not result.failed, result.failed
    bare = (before + bare_rate()) / 2  # before and after the full path, against drift
    return {f"{name}_items_per_s": full, f"{name}_bare_items_per_s": bare,
            f"{name}_full_path_ratio": full / bare, f"{name}_peak_mib": peak_memory_mib()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer items (within a minute)")
    args = parser.parse_args()
    torch.manual_seed(0)
    counts = {"clip_image": 16, "clap_audio": 4, "pointbert_3d": 4} if args.quick else \
        {"clip_image": 60, "clap_audio": 32, "pointbert_3d": 16}
    batch = {"clip_image": 16, "clap_audio": 4, "pointbert_3d": 2 if args.quick else 4}
    modality = {"clip_image": "image", "clap_audio": "audio", "pointbert_3d": "3d"}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        items = [i for i in plan_world("tiny", seed=0) if i.split == "test"]
        figures = {"threads": torch.get_num_threads(), "quick": args.quick}
        for name, encoder in make_encoders(tmp).items():
            chosen = [i for i in items if i.modality == modality[name]][: counts[name]]
            render_chunk(str(tmp / "world"), 0, chosen)  # only the files this run reads
            paths = [tmp / "world" / i.path for i in chosen]
            figures.update(measure(name, encoder, paths, batch[name]))
            print(f"{name}: {figures[f'{name}_items_per_s']:.2f} items/s full path, "
                  f"{figures[f'{name}_bare_items_per_s']:.2f} bare, "
                  f"ratio {figures[f'{name}_full_path_ratio']:.2f}", flush=True)
    report(figures)


if __name__ == "__main__":
    main()
