"""Decode a user's 3D file to a float32 (N, 3) point array.

`load_cloud(path, max_points=200_000, mesh_points=16_384, seed=0)`:

* point clouds: PLY (ASCII or binary, without faces), PCD (ascii, binary, binary_compressed) and
  XYZ are read with open3d (`o3d.io.read_point_cloud`), every point kept;
* meshes: STL, OFF and PLY files with faces are read with open3d (`o3d.io.read_triangle_mesh`),
  OBJ with a small reader of our own (open3d's OBJ reader silently drops every quad and
  polygon and returns nothing for point-only OBJ files); the surface is then sampled uniformly
  by area (`mesh_points` points, seeded). A mesh whose faces all have zero area, or an OBJ with
  vertices only, gives its vertices;
* rows with NaN or infinite coordinates are dropped; fewer than `MIN_POINTS` (16) finite points
  or all points identical (zero extent) -> `EmptyInputError`;
* more than `max_points` points -> a seeded random subset of `max_points` (order kept).

The format is judged from the content (`kinds.detect_format`), not the name. open3d does not
raise on bad input: it prints a warning and returns empty, partial or even garbage geometry (a
truncated binary PLY comes back full length with made-up tail values). So the headers of PLY,
PCD and OFF are parsed here first and the data's length checked against them (bytes for
binary, whitespace-separated values for ASCII); anything short is `CorruptFileError`, content
that is not 3D is `UnsupportedFileError`, each naming the file. open3d's console output is
silenced (verbosity Error).

Memory is bounded by refusing, before reading, files above `MAX_FILE_BYTES` (512 MiB; 256 MiB
for headerless text: XYZ, OBJ, ASCII STL) and headers that declare more than
`MAX_SOURCE_POINTS` (10 M) points or `MAX_FACES` (5 M) faces (`InputTooLargeError`).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import threading
from array import array
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.errors import (
    CorruptFileError,
    EmptyInputError,
    InputTooLargeError,
    ResourceUnavailableError,
)
from core.io.kinds import CLOUD, check_file, decode_error, detect_format, read_head

MIN_POINTS = 16
MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_TEXT_BYTES = 256 * 1024 * 1024
MAX_SOURCE_POINTS = 10_000_000
MAX_FACES = 5_000_000

_POINT_FORMATS = frozenset({"ply", "pcd", "xyz"})
_O3D_LOCK = threading.Lock()
_O3D = None


def _o3d():
    """open3d, imported on first use with its console output turned down to errors."""
    global _O3D
    with _O3D_LOCK:
        if _O3D is None:
            try:
                import open3d
            except (ImportError, OSError) as err:
                raise ResourceUnavailableError(
                    f"the 3D file reader (open3d) is not available ({err})",
                    hint="Reinstall with scripts/setup.",
                ) from None
            open3d.utility.set_verbosity_level(open3d.utility.VerbosityLevel.Error)
            _O3D = open3d
    return _O3D


# --- Header checks -----------------------------------------------------------------------------

_PLY_SIZES = {
    "char": 1, "int8": 1, "uchar": 1, "uint8": 1, "short": 2, "int16": 2, "ushort": 2,
    "uint16": 2, "int": 4, "int32": 4, "uint": 4, "uint32": 4, "float": 4, "float32": 4,
    "double": 8, "float64": 8,
}
_PLY_END = re.compile(rb"end_header[ \t]*(\r\n|\n|\r)")
_PCD_DATA = re.compile(rb"(?m)^DATA[ \t]+([A-Za-z_]+)[^\n]*(\n|$)")


@dataclass
class _PlyElement:
    name: str
    count: int
    props: list[str] = field(default_factory=list)
    fixed_bytes: int = 0
    lists: list[tuple[int, int]] = field(default_factory=list)  # (count size, item size)

    def min_items(self) -> int:
        return 3 if self.name == "face" else 0  # a face has at least three corners

    def min_bytes(self) -> int:
        per = self.fixed_bytes + sum(c + self.min_items() * i for c, i in self.lists)
        return self.count * per

    def min_tokens(self) -> int:
        fixed = len(self.props) - len(self.lists)
        return self.count * (fixed + len(self.lists) * (1 + self.min_items()))


@dataclass
class _Plan:
    """What the header says: how to read the file and how much data it must hold."""

    fmt: str
    mesh: bool
    points: int | None = None  # declared vertex/point count
    faces: int | None = None  # declared face count
    data_offset: int = 0
    min_bytes: int | None = None  # binary data: at least this many bytes after the header
    min_tokens: int | None = None  # ASCII data: at least this many values after the header


def _corrupt(path, what: str) -> CorruptFileError:
    return CorruptFileError(what, path=path)


def _plan_ply(path, head: bytes) -> _Plan:
    end = _PLY_END.search(head)
    if end is None:
        raise _corrupt(path, "the PLY header is incomplete (no end_header line)")
    fmt = None
    elements: list[_PlyElement] = []
    for raw in head[: end.start()].decode("latin-1").splitlines()[1:]:
        parts = raw.split()
        if not parts or parts[0] in ("comment", "obj_info"):
            continue
        try:
            if parts[0] == "format":
                fmt = parts[1]
            elif parts[0] == "element":
                elements.append(_PlyElement(parts[1], int(parts[2])))
            elif parts[0] == "property" and parts[1] == "list":
                elements[-1].lists.append((_PLY_SIZES[parts[2]], _PLY_SIZES[parts[3]]))
                elements[-1].props.append(parts[4])
            elif parts[0] == "property":
                elements[-1].fixed_bytes += _PLY_SIZES[parts[1]]
                elements[-1].props.append(parts[2])
            else:
                raise ValueError(raw)
        except (IndexError, KeyError, ValueError):
            raise _corrupt(path, f"the PLY header is malformed (line {raw.strip()!r})") from None
    if fmt not in ("ascii", "binary_little_endian", "binary_big_endian"):
        raise _corrupt(path, f"the PLY header has no valid format line ({fmt!r})")
    if any(e.count < 0 for e in elements):
        raise _corrupt(path, "the PLY header declares a negative count")
    vertex = next((e for e in elements if e.name == "vertex"), None)
    if vertex is None or not {"x", "y", "z"} <= set(vertex.props):
        raise _corrupt(path, "the PLY file has no vertex x, y, z properties")
    faces = sum(e.count for e in elements if e.name == "face" and e.lists)
    plan = _Plan("ply", mesh=faces > 0, points=vertex.count, faces=faces,
                 data_offset=end.end())
    if fmt == "ascii":
        plan.min_tokens = sum(e.min_tokens() for e in elements)
    else:
        plan.min_bytes = sum(e.min_bytes() for e in elements)
    return plan


def _plan_pcd(path, head: bytes) -> _Plan:
    data = _PCD_DATA.search(head)
    if data is None:
        raise _corrupt(path, "the PCD header is incomplete (no DATA line)")
    fields: dict[str, list[str]] = {}
    for raw in head[: data.start()].decode("latin-1").splitlines():
        parts = raw.split()
        if parts and not parts[0].startswith("#"):
            fields[parts[0].upper()] = parts[1:]
    names = fields.get("FIELDS", [])
    try:
        sizes = [int(v) for v in fields.get("SIZE", [])]
        counts = [int(v) for v in fields.get("COUNT", ["1"] * len(names))]
        width = int(fields.get("WIDTH", ["0"])[0])
        height = int(fields.get("HEIGHT", ["1"])[0])
        points = int(fields.get("POINTS", [str(width * height)])[0])
    except (ValueError, IndexError):
        raise _corrupt(path, "the PCD header is malformed") from None
    if not {"x", "y", "z"} <= set(names) or len(sizes) != len(names) or len(counts) != len(names):
        raise _corrupt(path, "the PCD header has no consistent x, y, z fields")
    if points < 0:
        raise _corrupt(path, "the PCD header declares a negative point count")
    kind = data.group(1).decode("ascii").lower()
    plan = _Plan("pcd", mesh=False, points=points, data_offset=data.end())
    row = sum(s * c for s, c in zip(sizes, counts, strict=True))
    if kind == "ascii":
        plan.min_tokens = points * sum(counts)
    elif kind == "binary":
        plan.min_bytes = points * row
    elif kind == "binary_compressed":
        with open(path, "rb") as f:
            f.seek(data.end())
            sizes_raw = f.read(8)
        if len(sizes_raw) < 8:
            raise _corrupt(path, "the compressed PCD data ends early")
        compressed, uncompressed = np.frombuffer(sizes_raw, "<u4")
        if uncompressed != points * row:
            raise _corrupt(path, "the compressed PCD data does not match its header")
        plan.min_bytes = 8 + int(compressed)
    else:
        raise _corrupt(path, f"the PCD data kind {kind!r} is unknown")
    return plan


def _plan_off(path, head: bytes) -> _Plan:
    tokens: list[bytes] = []
    for line in head.splitlines():
        line = line.split(b"#", 1)[0]
        tokens.extend(line.split())
        if len(tokens) >= 4:
            break
    try:
        vertices, faces = int(tokens[1]), int(tokens[2])
    except (IndexError, ValueError):
        raise _corrupt(path, "the OFF header has no vertex and face counts") from None
    if vertices < 0 or faces < 0:
        raise _corrupt(path, "the OFF header declares a negative count")
    if b"BINARY" in tokens[:2]:
        return _Plan("off", mesh=True, points=vertices, faces=faces)
    return _Plan("off", mesh=True, points=vertices, faces=faces,
                 min_tokens=4 + 3 * vertices + 4 * faces)


def _count_tokens(path, offset: int, needed: int) -> int:
    """Whitespace-separated values from `offset` on, counting stops once `needed` are seen."""
    count = 0
    before_space = True
    with open(path, "rb") as f:
        f.seek(offset)
        while count < needed:
            chunk = f.read(1 << 22)
            if not chunk:
                break
            a = np.frombuffer(chunk, np.uint8)
            space = (a == 32) | ((a >= 9) & (a <= 13))
            previous = np.empty_like(space)
            previous[0] = before_space
            previous[1:] = space[:-1]
            count += int(np.count_nonzero(~space & previous))
            before_space = bool(space[-1])
    return count


def _check_plan(path, plan: _Plan, size: int) -> None:
    noun = {"ply": "PLY", "pcd": "PCD", "off": "OFF"}.get(plan.fmt, plan.fmt.upper())
    if plan.points is not None and plan.points > MAX_SOURCE_POINTS:
        raise InputTooLargeError(f"the {noun} file declares {plan.points:,} points, above the "
                                 f"limit of {MAX_SOURCE_POINTS:,}", path=path)
    if plan.faces is not None and plan.faces > MAX_FACES:
        raise InputTooLargeError(f"the {noun} file declares {plan.faces:,} faces, above the "
                                 f"limit of {MAX_FACES:,}", path=path)
    if plan.points == 0:
        raise EmptyInputError(f"the {noun} file has no points", path=path)
    if plan.min_bytes is not None and size - plan.data_offset < plan.min_bytes:
        raise _corrupt(path, f"the {noun} data ends early ({size - plan.data_offset:,} bytes "
                             f"after the header, at least {plan.min_bytes:,} expected)")
    if plan.min_tokens is not None:
        found = _count_tokens(path, plan.data_offset, plan.min_tokens)
        if found < plan.min_tokens:
            raise _corrupt(path, f"the {noun} data ends early ({found:,} values, at least "
                                 f"{plan.min_tokens:,} expected)")


# --- Readers -----------------------------------------------------------------------------------

@contextlib.contextmanager
def _named_as(path, ext: str):
    """`path`, or a link to it ending in `ext`: open3d picks its mesh reader by extension."""
    if Path(path).suffix.lower() == ext:
        yield os.fspath(path)
        return
    with tempfile.TemporaryDirectory(prefix="mcr-cloud-") as tmp:
        link = os.path.join(tmp, "file" + ext)
        try:
            os.symlink(os.path.abspath(path), link)
        except OSError:
            raise CorruptFileError(f"its content is {ext[1:].upper()} but its name says "
                                   "otherwise", path=path,
                                   hint=f"Rename it to end in {ext}.") from None
        yield link


def _read_points_o3d(path, fmt: str) -> np.ndarray:
    o3d = _o3d()
    cloud = o3d.io.read_point_cloud(os.fspath(path), format=fmt, remove_nan_points=False,
                                    remove_infinite_points=False, print_progress=False)
    return np.asarray(cloud.points)


def _read_mesh_o3d(path, fmt: str) -> tuple[np.ndarray, np.ndarray]:
    o3d = _o3d()
    with _named_as(path, "." + fmt) as name:
        mesh = o3d.io.read_triangle_mesh(name, enable_post_processing=False,
                                         print_progress=False)
    return np.asarray(mesh.vertices), np.asarray(mesh.triangles)


def _read_obj(path) -> tuple[np.ndarray, np.ndarray]:
    """Vertices and fan-triangulated faces of an OBJ file (v and f lines; the rest ignored)."""
    coords = array("d")
    corners = array("q")
    count = 0
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            line = raw.lstrip()
            if line[:2] in (b"v ", b"v\t"):
                parts = line.split()
                try:
                    coords.extend((float(parts[1]), float(parts[2]), float(parts[3])))
                except (IndexError, ValueError):
                    raise _corrupt(path, f"line {number} is not a valid vertex "
                                         f"({raw.strip()[:60]!r})") from None
                count += 1
                if count > MAX_SOURCE_POINTS:
                    raise InputTooLargeError(f"the OBJ file has more than "
                                             f"{MAX_SOURCE_POINTS:,} vertices", path=path)
            elif line[:2] in (b"f ", b"f\t"):
                try:
                    index = [int(tok.split(b"/", 1)[0]) for tok in line.split()[1:]]
                except ValueError:
                    raise _corrupt(path, f"line {number} is not a valid face "
                                         f"({raw.strip()[:60]!r})") from None
                index = [i + count if i < 0 else i - 1 for i in index]  # 1-based or relative
                for j in range(1, len(index) - 1):
                    corners.extend((index[0], index[j], index[j + 1]))
                if len(corners) > 3 * MAX_FACES:
                    raise InputTooLargeError(f"the OBJ file has more than {MAX_FACES:,} "
                                             "triangles", path=path)
    vertices = np.frombuffer(coords, dtype=np.float64).reshape(-1, 3)
    triangles = np.frombuffer(corners, dtype=np.int64).reshape(-1, 3)
    if len(triangles) and (triangles.min() < 0 or triangles.max() >= len(vertices)):
        raise _corrupt(path, "a face refers to a vertex that does not exist")
    return vertices, triangles


def _sample_surface(vertices: np.ndarray, triangles: np.ndarray, count: int,
                    rng: np.random.Generator) -> np.ndarray | None:
    """`count` points uniform over the mesh's area; None when it has no area."""
    valid = (triangles >= 0).all(axis=1) & (triangles < len(vertices)).all(axis=1)
    triangles = triangles[valid]
    areas = np.zeros(len(triangles))
    step = 1 << 20
    for start in range(0, len(triangles), step):  # in slices: a (m, 3, 3) copy could be large
        t = triangles[start:start + step]
        a, b, c = vertices[t[:, 0]], vertices[t[:, 1]], vertices[t[:, 2]]
        with np.errstate(invalid="ignore", over="ignore"):
            areas[start:start + step] = 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)
    areas[~np.isfinite(areas)] = 0.0
    total = areas.sum()
    if not (total > 0 and np.isfinite(total)):
        return None
    chosen = triangles[rng.choice(len(triangles), size=count, p=areas / total)]
    a, b, c = vertices[chosen[:, 0]], vertices[chosen[:, 1]], vertices[chosen[:, 2]]
    r1 = np.sqrt(rng.random((count, 1)))
    r2 = rng.random((count, 1))
    return (1.0 - r1) * a + r1 * (1.0 - r2) * b + r1 * r2 * c


def _finish(path, points: np.ndarray, max_points: int, rng: np.random.Generator) -> np.ndarray:
    """Finite rows only, enough of them, not all identical, at most `max_points`: float32."""
    points = np.asarray(points).reshape(-1, 3)
    finite = np.isfinite(points).all(axis=1)
    kept = int(np.count_nonzero(finite))
    if kept == 0:
        what = "no points" if len(points) == 0 else (
            f"no usable points: all {len(points):,} have NaN or infinite coordinates")
        raise EmptyInputError(f"the cloud has {what}", path=path)
    if kept < MIN_POINTS:
        raise EmptyInputError(f"the cloud has only {kept} usable point{'s' * (kept != 1)}; at "
                              f"least {MIN_POINTS} are needed", path=path)
    with np.errstate(over="ignore"):
        if kept > max_points:
            rows = np.sort(rng.choice(np.flatnonzero(finite), size=max_points, replace=False))
            out = points[rows].astype(np.float32)
        else:
            out = points[finite].astype(np.float32)
    overflow = ~np.isfinite(out).all(axis=1)  # beyond float32's range (about 3e38)
    if overflow.any():
        out = out[~overflow]
        kept = len(out)
        if kept < MIN_POINTS:
            raise EmptyInputError(f"the cloud has only {kept} usable points (the others are "
                                  "NaN, infinite or beyond float32 range)", path=path)
    extent = out.max(axis=0) - out.min(axis=0)
    if not extent.max() > 0:
        raise EmptyInputError(f"all {kept:,} points are identical (the cloud has no extent)",
                              path=path)
    return np.ascontiguousarray(out)


def load_cloud(path: str | os.PathLike, *, max_points: int = 200_000,
               mesh_points: int = 16_384, seed: int = 0) -> np.ndarray:
    """The 3D file at `path` as float32 (N, 3) points, N <= max_points."""
    if max_points < MIN_POINTS or mesh_points < MIN_POINTS:
        raise ValueError(f"max_points and mesh_points must be at least {MIN_POINTS}")
    size = check_file(path)
    if size == 0:
        raise CorruptFileError("the file is empty (0 bytes)", path=path)
    head = read_head(path)
    fmt = detect_format(path, head, size)
    if fmt not in ("ply", "pcd", "xyz", "obj", "stl", "off"):
        raise decode_error(path, CLOUD, "not a readable PLY, PCD, XYZ, OBJ, STL or OFF file")
    binary_stl = fmt == "stl" and size == 84 + 50 * int.from_bytes(head[80:84], "little")
    text_only = fmt in ("xyz", "obj") or (fmt == "stl" and not binary_stl)
    limit = MAX_TEXT_BYTES if text_only else MAX_FILE_BYTES
    if size > limit:
        raise InputTooLargeError(f"the file is {size / 2**20:,.0f} MiB, above the limit of "
                                 f"{limit / 2**20:,.0f} MiB for {fmt.upper()} files", path=path)
    if fmt == "ply":
        plan = _plan_ply(path, head)
    elif fmt == "pcd":
        plan = _plan_pcd(path, head)
    elif fmt == "off":
        plan = _plan_off(path, head)
    elif binary_stl:
        faces = int.from_bytes(head[80:84], "little")
        plan = _Plan("stl", mesh=True, faces=faces)
        if faces == 0:
            raise EmptyInputError("the STL file has no triangles", path=path)
    else:
        plan = _Plan(fmt, mesh=fmt != "xyz")
    _check_plan(path, plan, size)
    rng = np.random.default_rng(seed)
    try:
        if fmt == "obj":
            vertices, triangles = _read_obj(path)
        elif plan.mesh:
            vertices, triangles = _read_mesh_o3d(path, fmt)
        else:
            vertices, triangles = _read_points_o3d(path, fmt), np.zeros((0, 3), np.int64)
    except (OSError, UnicodeError) as err:
        raise CorruptFileError(f"cannot be read ({err})", path=path) from None
    except MemoryError:
        raise InputTooLargeError("not enough memory to read it", path=path) from None
    except RuntimeError as err:  # open3d raises RuntimeError for a few hard failures
        raise _corrupt(path, f"open3d cannot read it ({err})") from None
    if len(vertices) == 0:
        if fmt == "obj":
            raise EmptyInputError("the OBJ file has no vertices", path=path)
        raise _corrupt(path, f"no points could be read from this {fmt.upper()} file")
    if plan.points is not None and len(vertices) != plan.points:
        raise _corrupt(path, f"{len(vertices):,} points were read but the header declares "
                             f"{plan.points:,}")
    if plan.mesh and plan.faces and len(triangles) == 0:
        raise _corrupt(path, f"the header declares {plan.faces:,} faces but none could be read")
    points = None
    if len(triangles):
        points = _sample_surface(vertices, triangles, mesh_points, rng)
    if points is None:
        points = vertices  # no faces or no area: the vertices are the cloud
    return _finish(path, points, max_points, rng)
