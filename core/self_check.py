"""The engine half of `mcr-studio --self-test`: checks that this installation (a source checkout
or a packaged bundle) works end to end on this machine, with plain data in and out.

* `plan_queries(world)`: one query per modality on the demo library, chosen by concept from the
  demo world's ground truth (`manifest.csv`): a photo, a line recording, a 3D scan and a typed
  sentence.
* `check_query(planned, result, ...)`: a query's results (a `core.session.SearchResult`) are
  non-empty, of every kind the library holds and only those, ranked (ranks 1..k, scores falling,
  finite), and right: a file finds itself first among its own kind, and in every other kind the
  best hit and most of the best five are of the query's family (the ground truth: 6 of the 60
  items of a kind are, so chance is 0.1 for the best hit and 0.5 items of five).
* `check_library(counts, models)`: the library holds items of every file modality the pack
  embeds (a library built while a file reader was missing lacks a kind).
* `check_pack(pack)`: every file of the pack matches its sha256.
* `check_architectures(device)`: the real pack's architectures (open_clip's CLIP, laion_clap's
  CLAP with its RoBERTa text tower and tokenizer, ULIP-2's PointBERT), built small with random
  weights and run once each through the loaders the real pack uses, so that every lazily
  imported part of torch, open_clip, laion_clap, torchlibrosa/librosa and transformers is known
  to load here (the demo pack uses only some of them). Nothing is downloaded.
* `Report`: the checks, as plain text (for people) or JSON; ok only when every check passed.

The window's part (offscreen, the library opened as the app opens it, queries run through the
window's `Session` on its worker thread) is `desktop/self_test.py`.
"""

from __future__ import annotations

import json
import math
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

K = 5  # results per modality
# Which items query: one per modality, named by concept (family/condition), and a sentence in a
# person's own words. Chosen as clear cases of the shipped demo pack on the demo library (the
# self-test checks the installation, not the pack's accuracy, which `mcr eval` measures): each
# has 4 or 5 of its family among the best 5 of every other kind, on the demo library (full
# world) and on the small world's library alike.
QUERIES = (("image", "pump/cracked"), ("audio", "pipe/normal"), ("3d", "bolt/normal"),
           ("text", "the fan is out of balance"))
MAJORITY = 3  # of the K best of every other kind, at least this many of the query's family
SELF_SCORE = 0.99  # a file's own vector, searched for: cosine 1 up to float rounding
REPORT_NAME = "self-test.txt"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    seconds: float = 0.0


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)
    info: dict = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def add(self, name: str, ok: bool, detail: str, seconds: float = 0.0) -> Check:
        check = Check(name, bool(ok), detail, round(float(seconds), 2))
        self.checks.append(check)
        return check

    def run(self, name: str, fn: Callable[[], str]) -> Check:
        """Run one check: `fn` returns what it found (ok) or raises (failed, with the reason)."""
        start = time.perf_counter()
        try:
            detail = fn()
            ok = True
        except Exception as err:  # a failed check is reported, never raised
            detail, ok = describe_error(err), False
        return self.add(name, ok, detail, time.perf_counter() - start)

    def seconds(self) -> float:
        return time.perf_counter() - self.started

    def text(self) -> str:
        verdict = "PASSED" if self.ok else "FAILED"
        lines = [f"MCR Studio self-test: {verdict} ({sum(c.ok for c in self.checks)} of "
                 f"{len(self.checks)} checks passed, {self.seconds():.1f} s)"]
        lines += [f"  {key}: {value}" for key, value in self.info.items()]
        for c in self.checks:
            lines.append(f"{'ok  ' if c.ok else 'FAIL'}  {c.name} ({c.seconds:.1f} s): {c.detail}")
        if not self.ok:
            reasons = [f"{c.name}: {c.detail}" for c in self.failures] or ["no check ran"]
            lines.append("Failed because " + "; ".join(reasons))
        return "\n".join(lines) + "\n"

    def as_json(self) -> dict:
        return {"ok": self.ok, "seconds": round(self.seconds(), 2), "info": self.info,
                "checks": [asdict(c) for c in self.checks]}

    def write(self, path: str | Path) -> Path:
        """As JSON when the name ends in .json, else as plain text."""
        path = Path(path).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() == ".json":
            path.write_text(json.dumps(self.as_json(), indent=2) + "\n", encoding="utf-8")
        else:
            path.write_text(self.text(), encoding="utf-8")
        return path


def describe_error(err: BaseException) -> str:
    text = str(err).strip().replace("\n", " ")
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def default_report_path() -> Path:
    from core.paths import data_dir

    return data_dir() / REPORT_NAME


def environment() -> dict:
    """What ran the checks: the program, Python, torch and the compute device in words."""
    import torch

    from core.cli.main import VERSION

    frozen = getattr(sys, "frozen", False)
    cuda = "available" if torch.cuda.is_available() else "not available"
    return {"program": f"MCR Studio {VERSION} "
                       + (f"(bundle {Path(sys.executable).resolve().parent})" if frozen
                          else "(from source)"),
            "python": f"{platform.python_version()} on {platform.system()} {platform.machine()}",
            "torch": f"{torch.__version__} (CUDA {cuda})"}


# ---------------------------------------------------------------------------- the queries


@dataclass(frozen=True)
class Planned:
    modality: str
    concept: str  # family/condition; for text, the family the sentence names + "/"
    family: str
    path: str | None = None  # a file of the library (image, audio, 3d)
    text: str | None = None

    @property
    def name(self) -> str:
        return f"{self.modality} query"

    def describe(self) -> str:
        what = f'"{self.text}"' if self.text is not None else Path(self.path).name
        return f"{what} ({self.concept.rstrip('/')})"


def demo_world_dir() -> Path:
    """The world the demo library is made of: `build_demo_library`'s defaults (full, seed 0)."""
    from core.library.demo import SPLIT
    from core.paths import default_world_dir

    return default_world_dir("full", 0, SPLIT)


def ground_truth(world: str | Path) -> dict[str, str]:
    """Absolute path of every file of the world -> its concept."""
    from core.world.manifest import read_manifest

    world = Path(world)
    return {str(world / row.path): row.concept for row in read_manifest(world) if row.path}


def plan_queries(world: str | Path, queries: Sequence[tuple[str, str]] = QUERIES
                 ) -> list[Planned]:
    """The queries of `queries` on the world's library files (the first file of each concept
    in name order); text queries name their family in their first word that is one."""
    from core.library.demo import SPLIT
    from core.world.concepts import FAMILIES
    from core.world.manifest import read_manifest

    world = Path(world)
    rows = [r for r in read_manifest(world) if r.split == SPLIT and r.path]
    planned = []
    for modality, what in queries:
        if modality == "text":
            family = next((f for f in what.lower().replace("-", " ").split() if f in FAMILIES),
                          None)
            if family is None:
                raise ValueError(f"the text query {what!r} names no family")
            planned.append(Planned("text", family + "/", family, text=what))
            continue
        found = sorted(r.path for r in rows if r.modality == modality and r.concept == what)
        if not found:
            raise ValueError(f"the demo world {world} has no {modality} file of {what}")
        planned.append(Planned(modality, what, what.split("/")[0], path=str(world / found[0])))
    return planned


def run_query(session, planned: Planned, k: int = K):
    """The query through the session, as the search tab runs it."""
    if planned.text is not None:
        return session.search_text(planned.text, k)
    return session.search_file(planned.path, k)


def check_query(planned: Planned, result, held: Sequence[str], concepts: dict[str, str],
                k: int = K) -> tuple[bool, str]:
    """(ok, what was found or what is wrong) for one query's `SearchResult`."""
    from core.library.search import MODALITY_ORDER

    problems: list[str] = []
    hits = list(result.hits)
    if result.query.modality != planned.modality:
        problems.append(f"the query was taken as {result.query.modality}, not "
                        f"{planned.modality}")
    if not hits:
        return False, "no results"
    wanted = [m for m in MODALITY_ORDER if m in held]
    kinds = [h.modality for h in hits]
    strange = sorted(set(kinds) - set(wanted))
    if strange:
        problems.append(f"results of kinds the library does not hold: {strange}")
    order = [m for m in MODALITY_ORDER if m in kinds]
    if kinds != sorted(kinds, key=order.index):
        problems.append("the results are not grouped by kind")
    found = []
    for kind in wanted:
        group = [h for h in hits if h.modality == kind]
        if len(group) != k:
            problems.append(f"{len(group)} {kind} results, not {k}")
            if not group:
                continue
        if [h.rank for h in group] != list(range(1, len(group) + 1)):
            problems.append(f"{kind} ranks are {[h.rank for h in group]}")
        scores = [h.score for h in group]
        if not all(math.isfinite(s) and -1.001 <= s <= 1.001 for s in scores):
            problems.append(f"{kind} scores out of range: {scores}")
        elif any(a < b - 1e-6 for a, b in zip(scores, scores[1:])):
            problems.append(f"{kind} results are not best first: {scores}")
        top = group[0]
        truth = concepts.get(top.path)
        if truth is None:
            problems.append(f"the best {kind} hit {top.path} is not a file of the demo world")
            continue
        if kind == planned.modality and planned.path is not None:
            if top.path != planned.path or top.score < SELF_SCORE:
                problems.append(f"the {kind} file did not find itself first (found "
                                f"{Path(top.path).name}, score {top.score:.3f})")
            else:
                found.append(f"{kind}: itself {top.score:.3f}")
            continue
        family = truth.split("/")[0]
        same = sum(concepts.get(h.path, "").split("/")[0] == planned.family for h in group)
        if family != planned.family:
            problems.append(f"the best {kind} hit is {Path(top.path).name} ({truth}), not of "
                            f"the family {planned.family}")
        elif same < min(MAJORITY, len(group)):
            problems.append(f"only {same} of the best {len(group)} {kind} hits are of the "
                            f"family {planned.family}")
        else:
            found.append(f"{kind}: {Path(top.path).name} ({truth}) {top.score:.3f}, "
                         f"{same}/{len(group)} {planned.family}")
    if problems:
        return False, f"{planned.describe()}: " + "; ".join(problems)
    return True, (f"{planned.describe()} -> " + ", ".join(found)
                  + f" ({len(hits)} results, {result.seconds * 1000:.0f} ms)")


FILE_MODALITIES = ("image", "audio", "3d")


def check_library(counts: dict[str, int], models, folder: str | Path = "") -> tuple[bool, str]:
    """Every file modality the pack embeds has items in the library (`counts`: per modality)."""
    wanted = [m for m in FILE_MODALITIES if m in models.modalities]
    missing = [m for m in wanted if not counts.get(m)]
    held = ", ".join(f"{counts.get(m, 0)} {m}" for m in wanted)
    if missing:
        return False, (f"the library {folder} holds no {' or '.join(missing)} items ({held}) "
                       f"although {models.pack.ref} embeds them: files of that kind were "
                       "skipped when it was built (delete the demo library's folder to build "
                       "it again)")
    return True, f"{held} items"


def check_pack(pack) -> str:
    """Every file of the pack against its sha256; raises with the problems."""
    from core.errors import PackError

    problems = pack.verify()
    if problems:
        raise PackError("; ".join(problems), path=pack.folder)
    return f"{pack.ref} in {pack.folder}: {len(pack.manifest.files)} files match their sha256"


def check_session(session, world: str | Path | None = None, k: int = K,
                  report: Report | None = None) -> Report:
    """Without a window: the pack and one query per modality on an open session's library
    (`world`: the demo world of its files, by default the demo library's)."""
    report = report if report is not None else Report()
    world = Path(world) if world is not None else demo_world_dir()
    report.add("library", *check_library(dict(session.library.held_modalities()),
                                         session.models, session.library.folder))
    report.run("pack", lambda: check_pack(session.models.pack))
    try:
        planned = plan_queries(world)
        concepts = ground_truth(world)
    except Exception as err:
        report.add("queries", False, f"the demo world's ground truth: {describe_error(err)}")
        return report
    held = list(session.library.held_modalities())
    for p in planned:
        start = time.perf_counter()
        try:
            ok, detail = check_query(p, run_query(session, p, k), held, concepts, k)
        except Exception as err:
            ok, detail = False, f"{p.describe()}: {describe_error(err)}"
        report.add(p.name, ok, detail, time.perf_counter() - start)
    report.add("encoders", *encoders_used(session.models, planned))
    return report


def encoders_used(models, planned: Sequence[Planned]) -> tuple[bool, str]:
    """Every modality the pack embeds was queried (so every encoder was built and ran)."""
    missing = sorted(set(models.modalities) - {p.modality for p in planned})
    if missing:
        return False, f"no query exercised the {', '.join(missing)} encoder(s)"
    return True, (f"{len(models.modalities)} encoders of {models.pack.ref} ran on "
                  f"{models.device}: " + ", ".join(
                      f"{m} ({models.pack.manifest.encoders[m].arch})" for m in models.modalities))


# ---------------------------------------------------------------------------- architectures

TINY_CLIP = {"model_cfg": {"embed_dim": 64,
                           "vision_cfg": {"image_size": 224, "layers": 1, "width": 64,
                                          "patch_size": 32},
                           "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64,
                                        "heads": 1, "layers": 1}},
             "quick_gelu": True}
# roberta-base's layout (hidden size 768, which CLAP's text projection needs) with one layer
TINY_ROBERTA = {"model_type": "roberta", "architectures": ["RobertaForMaskedLM"],
                "hidden_size": 768, "num_hidden_layers": 1, "num_attention_heads": 12,
                "intermediate_size": 256, "max_position_embeddings": 514, "type_vocab_size": 1,
                "layer_norm_eps": 1e-05, "hidden_act": "gelu", "pad_token_id": 1,
                "bos_token_id": 0, "eos_token_id": 2, "vocab_size": 300}
TINY_POINTBERT = {"trans_dim": 96, "depth": 1, "num_heads": 4, "group_size": 32,
                  "num_group": 64, "encoder_dims": 128, "embed_dim": 512}
_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
_CAPTIONS = ["a grinding noise from a worn bearing", "the pump is leaking oil onto the floor",
             "a loose bolt rattles on the conveyor"]


def _embed(encoder, item):
    import torch

    vector = encoder.forward(encoder.collate([encoder.preprocess(item)]))
    vector = torch.as_tensor(vector).float().cpu()
    if vector.ndim != 2 or vector.shape[0] != 1 or not torch.isfinite(vector).all():
        raise ValueError(f"the embedding is {list(vector.shape)} or not finite")
    norm = float(vector.norm())
    if abs(norm - 1.0) > 1e-3:
        raise ValueError(f"the embedding's norm is {norm:.4f}, not 1")
    return int(vector.shape[1])


def _clip(device) -> str:
    import open_clip

    from core.encoders.clip import ClipImageEncoder, ClipTextEncoder, build_clip
    from core.encoders.probe import probe_input

    clip = build_clip(TINY_CLIP, None, device)
    image = _embed(ClipImageEncoder(clip), probe_input("image"))
    text = _embed(ClipTextEncoder(clip), "a worn bearing grinding on the line")
    return f"open_clip {open_clip.__version__} CLIP ViT: image {image}-d, text {text}-d"


def _clap(device) -> str:
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaConfig

    from core.encoders.clap import (
        SAMPLE_RATE,
        ClapAudioEncoder,
        ClapTextEncoder,
        build_clap_model,
        load_clap,
    )
    from core.encoders.probe import probe_input

    with tempfile.TemporaryDirectory(prefix="mcr-self-test-") as folder:
        bpe = ByteLevelBPETokenizer()
        bpe.train_from_iterator(_CAPTIONS, vocab_size=TINY_ROBERTA["vocab_size"],
                                min_frequency=1, special_tokens=_SPECIALS, show_progress=False)
        bpe.save_model(folder)  # vocab.json + merges.txt, as a pack's text folder holds
        (Path(folder) / "config.json").write_text(json.dumps(TINY_ROBERTA), encoding="utf-8")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model, _ = build_clap_model(RobertaConfig(**TINY_ROBERTA), "HTSAT-tiny",
                                        enable_fusion=True)
        weights = {"module." + k: v for k, v in model.state_dict().items()}  # official layout
        del model
        bundle = load_clap(weights, folder, amodel="HTSAT-tiny", enable_fusion=True,
                           device=device)
        audio = _embed(ClapAudioEncoder(bundle), probe_input("audio", SAMPLE_RATE))
        text = _embed(ClapTextEncoder(bundle), "a worn bearing grinding on the line")
    return f"laion_clap CLAP HTSAT-tiny (fusion) + RoBERTa: audio {audio}-d, text {text}-d"


def _pointbert(device) -> str:
    from core.encoders.pointbert import PointBERT, PointBERTConfig, PointBERTEncoder
    from core.encoders.probe import probe_input

    model = PointBERT(PointBERTConfig(**TINY_POINTBERT))
    dim = _embed(PointBERTEncoder(model, device, n_points=2048), probe_input("3d"))
    return f"ULIP-2 PointBERT: 3d {dim}-d"


ARCHITECTURES = {"CLIP (open_clip)": _clip, "CLAP (laion_clap)": _clap,
                 "PointBERT (ULIP-2)": _pointbert}


def check_architectures(device="cpu", report: Report | None = None) -> Report:
    """One check per architecture of the real pack, built small with random weights."""
    report = report if report is not None else Report()
    for name, build in ARCHITECTURES.items():
        report.run(f"architecture {name}", lambda build=build: build(device))
    return report
