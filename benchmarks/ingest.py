"""Ingest end to end (scan, sha256, decode, previews, embed, catalogue commits, index) against
the encoders' bare forward on the same items, pre-decoded, at the same batch size, in one run.

    python benchmarks/ingest.py [--quick]

Encoders: the shipped demo pack on the CPU; files: a mixed folder of demo-world photos,
recordings and 3D scans (180 with --quick, 900 otherwise). Target (issue #6):
ingest files/s / bare forward files/s >= 0.9.

The demo pack's encoders are tiny (about 1 ms per file on the CPU), so its ingest is bound by
decoding the files, not by the model. `--real` measures the same path with the real pack's
architectures (CLIP ViT-B/32, CLAP HTSAT-tiny, ULIP-2 PointBERT; random weights, as in
benchmarks/encode.py), one library per modality since they have no common space without
the heads: that is the ratio a workstation with the real pack sees."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import _common  # noqa: F401  (puts the repo on sys.path)
from _common import report
from _plant import OneEncoder, demo_models, media_files, mixed_folder, parse_args

from core.encoders.pipeline import decoder_for
from core.library.ingest import ingest
from core.library.library import Library

BATCH = 16


def bare_forward_seconds(models, files: dict[str, list[Path]], batch: int = BATCH) -> float:
    """Forward only: every item decoded and preprocessed beforehand (not timed)."""
    total = 0.0
    for modality, paths in files.items():
        encoder = models.encoder(modality)
        decode = decoder_for(encoder)
        inputs = [encoder.preprocess(decode(p)) for p in paths]
        encoder.forward(encoder.collate(inputs[:batch]))  # warm-up
        started = time.perf_counter()
        for start in range(0, len(inputs), batch):
            encoder.forward(encoder.collate(inputs[start:start + batch]))
        total += time.perf_counter() - started
    return total


def real(args) -> dict:
    from encode import make_encoders

    counts = {"image": 32, "audio": 8, "3d": 8} if args.quick else \
        {"image": 120, "audio": 40, "3d": 32}
    batches = {"image": 16, "audio": 4, "3d": 4}
    figures, total_forward, total_ingest, n_all = {}, 0.0, 0.0, 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = mixed_folder(Path(tmp), True)
        files = media_files(folder)
        for name, encoder in make_encoders(Path(tmp)).items():
            modality = encoder.modality
            paths = files[modality][: counts[modality]]
            models = OneEncoder(name, encoder)
            forward_s = bare_forward_seconds(models, {modality: paths}, batches[modality])
            subset = Path(tmp) / name
            subset.mkdir()
            for p in paths:
                (subset / p.name).symlink_to(p)
            library = Library.open(subset.with_suffix(".lib"), space=models.pack.ref,
                                   dim=encoder.dim)
            started = time.perf_counter()
            result = ingest(library, models, [subset], batch_size=batches[modality],
                            workers=args.workers)
            ingest_s = time.perf_counter() - started
            library.close()
            assert result.counts()["indexed"] == len(paths), result.summary()
            figures[f"{name}_ingest_vs_forward_ratio"] = forward_s / ingest_s
            print(f"{name}: {len(paths) / ingest_s:.2f} files/s ingest, "
                  f"{len(paths) / forward_s:.2f} bare forward", flush=True)
            total_forward, total_ingest = total_forward + forward_s, total_ingest + ingest_s
            n_all += len(paths)
    figures.update(files=n_all, encoders="real architectures (random weights)",
                   ingest_vs_forward_ratio=total_forward / total_ingest,
                   ingest_files_per_s=n_all / total_ingest,
                   forward_files_per_s=n_all / total_forward)
    return figures


def main() -> None:
    args = parse_args(("--workers", {"type": int, "default": 2}))
    if args.real:
        report(real(args))
        return
    models = demo_models()
    with tempfile.TemporaryDirectory() as tmp:
        folder = mixed_folder(Path(tmp), args.quick)
        files = media_files(folder)
        n = sum(len(v) for v in files.values())
        forward_s = bare_forward_seconds(models, files)  # also loads and warms every encoder
        library = Library.open(Path(tmp) / "lib", space=models.pack.ref,
                               dim=models.pack.manifest.dim)
        started = time.perf_counter()
        result = ingest(library, models, [folder], batch_size=BATCH, workers=args.workers)
        library.close()
        ingest_s = time.perf_counter() - started
        assert result.counts()["indexed"] == n, result.summary()
    report({
        "files": n, "workers": args.workers, "batch": BATCH,
        "ingest_files_per_s": n / ingest_s, "forward_files_per_s": n / forward_s,
        "ingest_vs_forward_ratio": (n / ingest_s) / (n / forward_s),
        "ingest_s": ingest_s, "forward_s": forward_s, "encoders": "demo pack",
    })


if __name__ == "__main__":
    main()
