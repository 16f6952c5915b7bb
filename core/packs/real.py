"""`mcr pack build-real`: download the public checkpoints (on a connected machine), check their
sha256, convert them to safetensors in the layouts the engine loads, and write a verified pack.

Offline it fails at once and says where to run it. Downloads are injectable (`fetch`), so the
whole conversion is tested here with random weights saved in the official layouts."""

from __future__ import annotations

import json
import shutil
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

from core.errors import PackError, ResourceUnavailableError
from core.packs.manifest import Component
from core.packs.store import Pack, sha256_of
from core.packs.writer import PackFile, write_pack
from core.progress import CancelFn, ProgressFn, Tracker

REGISTRY = Path(__file__).with_name("real_pack.json")
Fetch = Callable[[str, Path], None]


def load_registry() -> dict:
    return json.loads(REGISTRY.read_text(encoding="utf-8"))


def download(url: str, dest: Path, timeout: float = 15.0) -> None:
    """Fetch `url` into `dest` (via a temporary file); raise ResourceUnavailableError offline."""
    tmp = dest.with_suffix(dest.suffix + ".part")
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "mcr-studio"})
        with urllib.request.urlopen(request, timeout=timeout) as response, open(tmp, "wb") as f:
            shutil.copyfileobj(response, f, 2**20)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise ResourceUnavailableError(
            f"Cannot download {url} from {urlparse(url).netloc} ({err})",
            hint="Build the real pack on a machine with internet access (`mcr pack build-real "
                 "--out DIR`), copy DIR to this machine and run `mcr pack import DIR`.",
        ) from err
    tmp.replace(dest)


def build_real_pack(out: str | Path, *, fetch: Fetch = download, pin_new_hashes: bool = False,
                    progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> Pack:
    out = Path(out)
    registry = load_registry()
    sources = registry["sources"]
    tracker = Tracker(progress, cancel)
    cache = out.parent / f".{out.name}.downloads"
    cache.mkdir(parents=True, exist_ok=True)
    tracker.start("downloading checkpoints", len(sources))
    local, pinned = {}, {}
    try:
        for key, source in sources.items():
            local[key], pinned[key] = _fetch_checked(key, source, cache, fetch, pin_new_hashes)
            tracker.advance(message=key)
    finally:
        if not any(cache.iterdir()):
            cache.rmdir()
    tracker.start("converting", 1)
    pack = _convert(out, registry, local, pinned)
    tracker.advance()
    shutil.rmtree(cache, ignore_errors=True)
    return pack


def _fetch_checked(key, source, cache: Path, fetch: Fetch, pin_new_hashes: bool):
    dest = cache / f"{key}{Path(urlparse(source['url']).path).suffix or '.bin'}"
    expected = source.get("sha256")
    if not (dest.exists() and expected and sha256_of(dest) == expected):
        fetch(source["url"], dest)
    actual = sha256_of(dest)
    if expected and actual != expected:
        raise PackError(f"the download of {key} has sha256 {actual}, the registry pins "
                        f"{expected}: refusing it", path=dest,
                        hint="Download again; if it persists the file changed upstream.")
    if not expected and not pin_new_hashes:
        raise PackError(f"the registry pins no sha256 for {key} ({source['url']})",
                        hint="Re-run with --pin-new-hashes to trust this first download; its "
                             "hash is then recorded in the pack's manifest.")
    return dest, actual


def _convert(out: Path, registry: dict, local: dict, pinned: dict) -> Pack:
    import open_clip

    from core.encoders.clip import from_openai_state_dict
    from core.encoders.pointbert import (
        PointBERTConfig,
        load_ulip2_state_dict,
        read_ulip2_checkpoint,
    )

    sources = registry["sources"]

    def f(content, key):
        return PackFile(content, f"{sources[key]['url']} (sha256 {pinned[key]})",
                        sources[key]["license"])

    files = {
        "weights/clip_vit_b32.safetensors": f(from_openai_state_dict(_openai(local["clip"])),
                                              "clip"),
        "weights/clap_630k_fusion.safetensors": f(_torch_file(local["clap"]), "clap"),
        "text/roberta/config.json": f(local["roberta_config"], "roberta_config"),
        "text/roberta/vocab.json": f(local["roberta_vocab"], "roberta_vocab"),
        "text/roberta/merges.txt": f(local["roberta_merges"], "roberta_merges"),
        "weights/ulip2_pointbert.safetensors": f(
            load_ulip2_state_dict(read_ulip2_checkpoint(local["ulip2"])), "ulip2"),
        "weights/exmcr_clap_head.safetensors": f(_torch_file(local["exmcr_clap"]), "exmcr_clap"),
        "weights/exmcr_ulip_head.safetensors": f(_torch_file(local["exmcr_ulip"]), "exmcr_ulip"),
    }
    clip = Component("open_clip", {"model_cfg": open_clip.get_model_config("ViT-B-32"),
                                   "quick_gelu": True},
                     {"weights": "weights/clip_vit_b32.safetensors"})
    clap = Component("clap", {"amodel": "HTSAT-tiny", "enable_fusion": True}, {
        "weights": "weights/clap_630k_fusion.safetensors",
        "text_config": "text/roberta/config.json", "vocab": "text/roberta/vocab.json",
        "merges": "text/roberta/merges.txt"})
    pointbert = Component("pointbert", {**vars(PointBERTConfig()), "n_points": 8192},
                          {"weights": "weights/ulip2_pointbert.safetensors"})
    heads = {m: Component("exmcr_head", {"dim": 512, "expansion": 2},
                          {"weights": f"weights/exmcr_{leaf}_head.safetensors"})
             for m, leaf in (("audio", "clap"), ("3d", "ulip"))}
    return write_pack(
        out, name=registry["name"], version=registry["version"], dim=registry["dim"],
        encoders={"image": clip, "text": clip, "audio": clap, "3d": pointbert}, heads=heads,
        files=files, extra={"built_by": "mcr pack build-real", "sources": pinned},
    )


def _openai(path: Path) -> dict:
    """OpenAI's ViT-B-32.pt is a TorchScript archive (its sha256 was checked before this);
    a plain state-dict file in the same layout is accepted too."""
    import torch

    try:
        return dict(torch.jit.load(str(path), map_location="cpu").state_dict())
    except RuntimeError:
        return _torch_file(path)


def _torch_file(path: Path) -> dict:
    import torch

    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise PackError(f"cannot be read without running pickled code ({type(err).__name__})",
                        path=path) from err
    return dict(obj.get("state_dict", obj)) if isinstance(obj, dict) else obj
