"""A model pack's manifest: what it holds (encoders, heads, dimensions) and every file's sha256,
source and licence. Validated field by field with messages that name the pack and the field."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from core.errors import PackError

FORMAT = 1
MANIFEST = "manifest.json"
MODALITIES = ("image", "text", "audio", "3d")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative, POSIX
    sha256: str
    bytes: int
    source: str
    license: str


@dataclass(frozen=True)
class Component:
    """An encoder (one modality) or an alignment head: an architecture id, its config, and the
    files it reads (keys of `files` are roles such as "weights" or "tokenizer")."""

    arch: str
    config: dict
    files: dict[str, str]


@dataclass(frozen=True)
class Continual:
    """What continual steps left in a pack version: the DNS statistics file (a later step
    continues from it) and every step so far, oldest first (name, pairs, scores, settings)."""

    statistics: str
    steps: tuple[dict, ...] = ()


@dataclass(frozen=True)
class Manifest:
    name: str
    version: str
    dim: int
    encoders: dict[str, Component]
    heads: dict[str, Component]
    files: dict[str, FileEntry]
    parent: str | None = None
    extra: dict = field(default_factory=dict)  # provenance, evaluation, training settings
    # The leaf spaces' own towers, before their heads ({leaf: {modality: component}}, a leaf
    # named by its leaf-only modality as in `heads`): what re-training the alignment embeds.
    leaves: dict[str, dict[str, Component]] = field(default_factory=dict)
    # Continual extension: a d×d "linear_map" per modality applied after the encoder (and head).
    maps: dict[str, Component] = field(default_factory=dict)
    continual: Continual | None = None

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "name": self.name,
            "version": self.version,
            "dim": self.dim,
            "parent": self.parent,
            "encoders": {m: _component_json(c) for m, c in self.encoders.items()},
            "heads": {m: _component_json(c) for m, c in self.heads.items()},
            **({"leaves": {leaf: {m: _component_json(c) for m, c in towers.items()}
                           for leaf, towers in self.leaves.items()}} if self.leaves else {}),
            **({"maps": {m: _component_json(c) for m, c in self.maps.items()}}
               if self.maps else {}),
            **({"continual": {"statistics": self.continual.statistics,
                              "steps": list(self.continual.steps)}}
               if self.continual is not None else {}),
            "files": [vars(f) for f in self.files.values()],
            **({"extra": self.extra} if self.extra else {}),
        }


def read_manifest(folder: Path) -> Manifest:
    path = folder / MANIFEST
    if not path.is_file():
        raise PackError("has no manifest.json, so it is not a model pack", path=folder)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise PackError(f"is not valid JSON ({err})", path=path) from err
    return parse_manifest(data, path)


def parse_manifest(data, path: Path) -> Manifest:
    check = _Checker(path)
    check.that(isinstance(data, dict), "must be a JSON object")
    check.that(data.get("format") == FORMAT, f"has format {data.get('format')!r}; this "
               f"version of MCR Studio reads format {FORMAT}")
    name, version = data.get("name"), data.get("version")
    check.that(isinstance(name, str) and bool(_NAME.match(name)),
               "needs a 'name' of lower-case letters, digits, '.', '_' or '-'")
    check.that(isinstance(version, str) and bool(_NAME.match(version)), "needs a 'version'")
    check.that(isinstance(data.get("dim"), int) and data["dim"] > 0, "needs a positive 'dim'")
    files = {}
    for entry in _list(check, data, "files"):
        f = _file_entry(check, entry)
        check.that(f.path not in files, f"lists {f.path} twice")
        files[f.path] = f
    encoders = _components(check, data, "encoders", files)
    check.that(bool(encoders), "declares no encoder")
    heads = _components(check, data, "heads", files)
    raw_leaves = data.get("leaves", {})
    check.that(isinstance(raw_leaves, dict), "'leaves' must be an object")
    leaves = {}
    for leaf, towers in raw_leaves.items():
        check.that(leaf in MODALITIES, f"'leaves' names unknown modality {leaf!r}")
        leaves[leaf] = _components(check, {"towers": towers}, "towers", files,
                                   label=f"leaves.{leaf}")
    maps = _components(check, data, "maps", files)
    for modality in maps:
        check.that(modality in encoders, f"maps.{modality} maps a modality without an encoder")
    parent = data.get("parent")
    check.that(parent is None or isinstance(parent, str), "'parent' must be a string or null")
    return Manifest(name, version, data["dim"], encoders, heads, files, parent,
                    data.get("extra") or {}, leaves, maps, _continual(check, data, files))


def _continual(check, data, files) -> Continual | None:
    raw = data.get("continual")
    if raw is None:
        return None
    check.that(isinstance(raw, dict), "'continual' must be an object")
    statistics, steps = raw.get("statistics"), raw.get("steps", [])
    check.that(isinstance(statistics, str) and statistics in files,
               f"continual.statistics ({statistics!r}) must be a file listed in 'files' with "
               "its sha256")
    check.that(isinstance(steps, list) and all(isinstance(s, dict) for s in steps),
               "continual.steps must be a list of objects")
    return Continual(statistics, tuple(steps))


def _safe_path(check, value) -> str:
    check.that(isinstance(value, str) and value != "", "has a file entry without a path")
    pure = PurePosixPath(value)
    check.that(not pure.is_absolute() and ".." not in pure.parts and "\\" not in value,
               f"refers to {value!r}, outside the pack")
    return str(pure)


def _file_entry(check, entry) -> FileEntry:
    check.that(isinstance(entry, dict), "has a file entry that is not an object")
    path = _safe_path(check, entry.get("path"))
    sha = entry.get("sha256")
    check.that(isinstance(sha, str) and bool(_SHA256.match(sha)), f"{path}: needs a sha256")
    size = entry.get("bytes")
    check.that(isinstance(size, int) and size >= 0, f"{path}: needs its size in 'bytes'")
    for key in ("source", "license"):
        check.that(isinstance(entry.get(key), str) and entry[key] != "",
                   f"{path}: needs its '{key}' (provenance and licence of every file)")
    return FileEntry(path, sha, size, entry["source"], entry["license"])


def _components(check, data, key, files, label: str | None = None) -> dict[str, Component]:
    raw = data.get(key, {})
    key = label or key
    check.that(isinstance(raw, dict), f"'{key}' must be an object")
    out = {}
    for modality, comp in raw.items():
        check.that(modality in MODALITIES, f"'{key}' names unknown modality {modality!r}")
        check.that(isinstance(comp, dict) and isinstance(comp.get("arch"), str),
                   f"{key}.{modality} needs an 'arch'")
        config = comp.get("config", {})
        refs = comp.get("files", {})
        check.that(isinstance(config, dict) and isinstance(refs, dict),
                   f"{key}.{modality}: 'config' and 'files' must be objects")
        for role, ref in refs.items():
            check.that(ref in files, f"{key}.{modality} uses {ref!r} ({role}), which is not "
                       "listed in 'files' with its sha256")
        out[modality] = Component(comp["arch"], config, dict(refs))
    return out


def _list(check, data, key) -> list:
    value = data.get(key, [])
    check.that(isinstance(value, list), f"'{key}' must be a list")
    return value


def _component_json(c: Component) -> dict:
    return {"arch": c.arch, "config": c.config, "files": c.files}


class _Checker:
    def __init__(self, path: Path):
        self.path = path

    def that(self, condition: bool, problem: str) -> None:
        if not condition:
            raise PackError(f"manifest {problem}", path=self.path,
                            hint="The pack is damaged or was made by another tool; rebuild or "
                                 "re-import it.")
