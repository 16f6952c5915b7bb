"""Model packs on disk: find them, verify every file's sha256 before its bytes are used, load
tensors without pickled code, and import a pack folder or .zip safely."""

from __future__ import annotations

import hashlib
import io
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from core.errors import PackError, UsageError
from core.packs.manifest import MANIFEST, Manifest, read_manifest
from core.paths import assets_dir, bundle_dir, data_dir
from core.progress import CancelFn, ProgressFn, Tracker

ZIP_MAX_BYTES = 32 * 2**30  # unpacked size of an imported .zip
ZIP_MAX_FILES = 10_000
ZIP_MAX_RATIO = 200  # a member that unpacks to more than this times its packed size is refused
_CHUNK = 2**20


def pack_roots() -> list[Path]:
    """Where packs are found: the shipped assets first; in a packaged bundle, pack folders
    dropped next to its program or into a `packs` folder there; then the user's data folder
    (where `mcr pack import` puts them)."""
    beside = bundle_dir()
    extra = [beside / "packs", beside] if beside is not None else []
    return [assets_dir() / "packs", *extra, data_dir() / "packs"]


@dataclass(frozen=True)
class Pack:
    folder: Path
    manifest: Manifest

    @classmethod
    def open(cls, folder: str | Path) -> Pack:
        folder = Path(folder)
        return cls(folder, read_manifest(folder))

    @property
    def ref(self) -> str:
        return self.manifest.ref

    def path_of(self, rel: str) -> Path:
        if rel not in self.manifest.files:
            raise PackError(f"{rel} is not listed in the manifest", path=self.folder)
        return self.folder / rel

    def verify(self, progress: ProgressFn | None = None, cancel: CancelFn | None = None
               ) -> list[str]:
        """Every problem with the pack's files (missing, wrong size, wrong sha256); [] if none."""
        tracker = Tracker(progress, cancel)
        entries = list(self.manifest.files.values())
        tracker.start(f"verifying {self.ref}", len(entries))
        problems = []
        for entry in entries:
            try:
                self.verified_path(entry.path)
            except PackError as err:
                problems.append(err.what)
            tracker.advance(message=entry.path)
        return problems

    def verified_path(self, rel: str) -> Path:
        """The file's path, after checking that its size and sha256 are the manifest's."""
        entry = self.manifest.files.get(rel)
        path = self.path_of(rel)
        if not path.is_file():
            raise PackError(f"{rel} is missing", path=self.folder)
        if path.stat().st_size != entry.bytes:
            raise PackError(f"{rel} has {path.stat().st_size} bytes, the manifest says "
                            f"{entry.bytes}: it was changed or is incomplete", path=self.folder)
        if sha256_of(path) != entry.sha256:
            raise PackError(f"{rel} does not match its sha256 in the manifest: it was changed "
                            "or damaged, so it is not loaded", path=self.folder)
        return path

    def tensors(self, rel: str) -> dict:
        """Load a weight file's tensors after verifying it: safetensors, or a torch file loaded
        with weights_only=True (a file that needs pickled code is refused)."""
        path = self.verified_path(rel)
        return load_tensors(path)


def load_tensors(path: Path) -> dict:
    import torch

    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except (SafetensorError, OSError, ValueError) as err:
            raise PackError(f"{path.name} is not a readable safetensors file ({err})",
                            path=path) from err
    data = path.read_bytes()
    try:
        obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises UnpicklingError and others for unsafe content
        raise PackError(f"{path.name} needs pickled code to load, which is refused for safety "
                        f"({type(err).__name__})", path=path,
                        hint="Convert it to safetensors on a trusted machine.") from err
    if isinstance(obj, dict) and "state_dict" in obj:
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise PackError(f"{path.name} does not hold a dictionary of tensors", path=path)
    return obj


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Found:
    folder: Path
    pack: Pack | None
    problem: str | None  # why it could not be opened


def find_packs() -> list[Found]:
    found = []
    for root in pack_roots():
        if not root.is_dir():
            continue
        # a name starting with "." is a pack being written or imported (staging), not a pack
        for folder in sorted(p for p in root.iterdir()
                             if not p.name.startswith(".") and (p / MANIFEST).is_file()):
            try:
                found.append(Found(folder, Pack.open(folder), None))
            except PackError as err:
                found.append(Found(folder, None, str(err)))
    return found


def resolve_pack(name: str) -> Pack:
    """A pack by folder path, by `name@version`, or by name (its newest version)."""
    if Path(name).is_dir():
        return Pack.open(name)
    wanted, _, version = name.partition("@")
    matches = [f.pack for f in find_packs() if f.pack is not None
               and f.pack.manifest.name == wanted
               and (not version or f.pack.manifest.version == version)]
    if not matches:
        raise UsageError(f"No model pack named {name!r} is installed",
                         hint="`mcr pack list` shows the installed packs.")
    return max(matches, key=lambda p: _version_key(p.manifest.version))


DEFAULT_PACK = "demo"


def default_pack() -> Pack | None:
    """The pack used when none is chosen: the newest version of the demo pack, else the newest
    version of the first pack by name; None when no pack is installed."""
    packs = [f.pack for f in find_packs() if f.pack is not None]
    if not packs:
        return None
    demo = [p for p in packs if p.manifest.name == DEFAULT_PACK]
    chosen = demo or [p for p in packs if p.manifest.name == min(q.manifest.name for q in packs)]
    return max(chosen, key=lambda p: _version_key(p.manifest.version))


def _version_key(version: str):
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in version.split("."))


def import_pack(source: str | Path, progress: ProgressFn | None = None,
                cancel: CancelFn | None = None) -> Pack:
    """Copy a pack folder or .zip into the user's packs folder, verified before it is kept."""
    source = Path(source)
    tracker = Tracker(progress, cancel)
    root = data_dir() / "packs"
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=root))
    try:
        if source.is_dir():
            shutil.copytree(source, staging / "pack")
            folder = staging / "pack"
        elif zipfile.is_zipfile(source):
            folder = _extract_zip(source, staging, tracker)
        else:
            raise PackError("is neither a pack folder nor a .zip of one", path=source)
        pack = Pack.open(folder)
        problems = pack.verify(progress, cancel)
        if problems:
            raise PackError("; ".join(problems), path=source)
        target = root / f"{pack.manifest.name}-{pack.manifest.version}"
        if target.exists():
            raise PackError(f"{pack.ref} is already installed in {target}",
                            hint="Remove that folder first to replace it.")
        folder.rename(target)
        return Pack.open(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _extract_zip(source: Path, staging: Path, tracker: Tracker) -> Path:
    with zipfile.ZipFile(source) as archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        _check_members(source, members)
        tracker.start("unpacking", len(members))
        out = staging / "zip"
        for member in members:
            target = out / PurePosixPath(member.filename)
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as src, open(target, "wb") as dst:
                written = 0
                while block := src.read(_CHUNK):
                    written += len(block)
                    if written > member.file_size:
                        raise PackError(f"{member.filename} unpacks to more than it declares",
                                        path=source)
                    dst.write(block)
            tracker.advance()
    manifests = list(out.glob(MANIFEST)) or list(out.glob(f"*/{MANIFEST}"))
    if len(manifests) != 1:
        raise PackError("holds no manifest.json at its top (or in one top folder)", path=source)
    return manifests[0].parent


def _check_members(source: Path, members: list[zipfile.ZipInfo]) -> None:
    if len(members) > ZIP_MAX_FILES:
        raise PackError(f"holds {len(members)} files, more than a pack may ({ZIP_MAX_FILES})",
                        path=source)
    total = 0
    for m in members:
        name = PurePosixPath(m.filename)
        if name.is_absolute() or ".." in name.parts or "\\" in m.filename or ":" in m.filename:
            raise PackError(f"holds {m.filename!r}, which would be written outside the pack",
                            path=source)
        if (m.external_attr >> 16) & 0o170000 == 0o120000:
            raise PackError(f"holds a symbolic link ({m.filename}), which packs may not",
                            path=source)
        if m.file_size > _CHUNK and m.file_size > ZIP_MAX_RATIO * max(m.compress_size, 1):
            raise PackError(f"{m.filename} would unpack {m.file_size // m.compress_size}x "
                            "larger than it is packed (a zip bomb?)", path=source)
        total += m.file_size
    if total > ZIP_MAX_BYTES:
        raise PackError(f"unpacks to {total / 2**30:.1f} GiB, more than {ZIP_MAX_BYTES // 2**30}"
                        " GiB", path=source)
