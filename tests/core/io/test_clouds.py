"""load_cloud: point clouds and meshes to float32 (N, 3); broken files get typed errors."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from PIL import Image

from core.errors import CorruptFileError, EmptyInputError, InputTooLargeError, UnsupportedFileError
from core.io import load_cloud


def _sphere(n: int = 500, seed: int = 1) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, 3))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def _ply_header(n: int, fmt: str = "binary_little_endian", kind: str = "float",
                extra: str = "") -> bytes:
    return (f"ply\nformat {fmt} 1.0\ncomment made by a test\nelement vertex {n}\n"
            f"property {kind} x\nproperty {kind} y\nproperty {kind} z\n{extra}end_header\n"
            ).encode()


def write_ply_binary(path, pts, kind="float", endian="<"):
    fmt = "binary_little_endian" if endian == "<" else "binary_big_endian"
    dtype = endian + ("f4" if kind == "float" else "f8")
    path.write_bytes(_ply_header(len(pts), fmt, kind) + pts.astype(dtype).tobytes())


def write_ply_ascii(path, pts):
    body = "".join(f"{x!r} {y!r} {z!r}\n" for x, y, z in pts.tolist())
    path.write_bytes(_ply_header(len(pts), "ascii") + body.encode())


def _pcd_header(n: int, data: str) -> bytes:
    return (f"# .PCD v0.7 - Point Cloud Data file format\nVERSION 0.7\nFIELDS x y z\n"
            f"SIZE 4 4 4\nTYPE F F F\nCOUNT 1 1 1\nWIDTH {n}\nHEIGHT 1\n"
            f"VIEWPOINT 0 0 0 1 0 0 0\nPOINTS {n}\nDATA {data}\n").encode()


# --- Point clouds ---------------------------------------------------------------------------------

@pytest.mark.parametrize("variant", ["ply_ascii", "ply_binary", "ply_double_big_endian",
                                     "pcd_ascii", "pcd_binary", "pcd_compressed", "xyz"])
def test_point_clouds_decode_exactly(tmp_path, variant):
    pts = _sphere()
    ext = variant.split("_")[0]
    path = tmp_path / f"scan.{ext}"
    if variant == "ply_ascii":
        write_ply_ascii(path, pts)
    elif variant == "ply_binary":
        write_ply_binary(path, pts)
    elif variant == "ply_double_big_endian":
        write_ply_binary(path, pts, kind="double", endian=">")
    elif variant == "pcd_ascii":
        body = "".join(f"{x!r} {y!r} {z!r}\n" for x, y, z in pts.tolist())
        path.write_bytes(_pcd_header(len(pts), "ascii") + body.encode())
    elif variant == "pcd_binary":
        path.write_bytes(_pcd_header(len(pts), "binary") + pts.astype("<f4").tobytes())
    elif variant == "pcd_compressed":
        import open3d as o3d

        cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(pts.astype(np.float64)))
        assert o3d.io.write_point_cloud(str(path), cloud, compressed=True)
        assert b"binary_compressed" in path.read_bytes()[:400]
    else:  # XYZ with colour columns after x y z
        path.write_text("".join(f"{x!r} {y!r} {z!r} 255 0 0\n" for x, y, z in pts.tolist()))
    out = load_cloud(path)
    assert out.dtype == np.float32 and out.shape == (500, 3) and out.flags.c_contiguous
    assert np.allclose(out, pts, atol=1e-6)


def test_misnamed_ply_still_decodes(tmp_path):
    path = tmp_path / "points.xyz"
    write_ply_binary(path, _sphere())
    assert load_cloud(path).shape == (500, 3)


def test_nan_rows_are_dropped(tmp_path):
    pts = np.concatenate([_sphere(), np.full((20, 3), np.nan, np.float32)])
    pts[3, 1] = np.inf
    path = tmp_path / "holes.ply"
    write_ply_binary(path, pts)
    out = load_cloud(path)
    assert out.shape == (499, 3) and np.isfinite(out).all()


def test_big_clouds_are_subsampled_with_a_seed(tmp_path):
    pts = _sphere(5000)
    path = tmp_path / "dense.ply"
    write_ply_binary(path, pts)
    a = load_cloud(path, max_points=1000)
    assert a.shape == (1000, 3)
    rows = {tuple(p) for p in pts.tolist()}
    assert all(tuple(p) in rows for p in a.tolist()) and len({tuple(p) for p in a.tolist()}) == 1000
    assert np.array_equal(a, load_cloud(path, max_points=1000))
    assert not np.array_equal(a, load_cloud(path, max_points=1000, seed=1))


# --- Meshes -----------------------------------------------------------------------------------

CUBE_V = [(x, y, z) for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)]  # index = 4x + 2y + z
CUBE_QUADS = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
CUBE_TRIS = [t for a, b, c, d in CUBE_QUADS for t in ((a, b, c), (a, c, d))]


def _assert_on_cube_surface(out: np.ndarray, count: int) -> None:
    assert out.dtype == np.float32 and out.shape == (count, 3)
    assert np.abs(out).max() <= 1 + 1e-6
    on_face = np.isclose(np.abs(out), 1, atol=1e-5)
    assert on_face.any(axis=1).all()  # every point lies on the surface
    # Uniform by area: each of the six equal faces gets about a sixth of the points.
    face = np.argmax(np.abs(out), axis=1) * 2 + (out[np.arange(count), np.argmax(np.abs(out),
                                                                                  axis=1)] > 0)
    shares = np.bincount(face, minlength=6) / count
    assert np.allclose(shares, 1 / 6, atol=0.02), shares


def test_obj_with_quads_and_index_forms(tmp_path):
    lines = ["# cube", "mtllib cube.mtl", "o cube"]
    lines += [f"v {x} {y} {z}" for x, y, z in CUBE_V]
    lines += ["vt 0 0", "vn 0 0 1", "usemtl steel", "s off"]
    for n, (a, b, c, d) in enumerate(CUBE_QUADS):
        if n % 3 == 0:
            lines.append(f"f {a + 1}/1/1 {b + 1}/1/1 {c + 1}/1/1 {d + 1}/1/1")
        elif n % 3 == 1:
            lines.append(f"f {a - 8} {b - 8} {c - 8} {d - 8}")  # relative indices
        else:
            lines.append(f"f {a + 1}//1 {b + 1}//1 {c + 1}//1 {d + 1}//1")
    path = tmp_path / "cube.obj"
    path.write_text("\n".join(lines) + "\n")
    _assert_on_cube_surface(load_cloud(path), 16384)


def _stl_binary(path, tris) -> None:
    with open(path, "wb") as f:
        f.write(b"binary STL written by a test".ljust(80, b" "))
        f.write(struct.pack("<I", len(tris)))
        for tri in tris:
            corners = [c for i in tri for c in CUBE_V[i]]
            f.write(struct.pack("<12fH", 0, 0, 0, *corners, 0))


def test_binary_stl(tmp_path):
    path = tmp_path / "cube.stl"
    _stl_binary(path, CUBE_TRIS)
    _assert_on_cube_surface(load_cloud(path, mesh_points=6000), 6000)


def test_ascii_stl(tmp_path):
    facets = []
    for tri in CUBE_TRIS:
        corners = "\n".join(f"      vertex {x} {y} {z}" for x, y, z in (CUBE_V[i] for i in tri))
        facets.append(f"  facet normal 0 0 0\n    outer loop\n{corners}\n    endloop\n"
                      "  endfacet")
    path = tmp_path / "cube_ascii.stl"
    path.write_text("solid cube\n" + "\n".join(facets) + "\nendsolid cube\n")
    _assert_on_cube_surface(load_cloud(path, mesh_points=6000), 6000)


def test_off_with_quads(tmp_path):
    body = [f"{x} {y} {z}" for x, y, z in CUBE_V] + [f"4 {a} {b} {c} {d}" for a, b, c, d
                                                     in CUBE_QUADS]
    path = tmp_path / "cube.off"
    path.write_text("OFF\n# a cube\n8 6 12\n" + "\n".join(body) + "\n")
    _assert_on_cube_surface(load_cloud(path, mesh_points=6000), 6000)


def test_ply_with_faces_is_sampled_by_area(tmp_path):
    # Two triangles side by side, the second three times the area of the first.
    verts = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 0, 0], [4, 0, 0], [1, 1, 0]], "<f4")
    face = b"".join(struct.pack("<Biii", 3, *t) for t in ((0, 1, 2), (3, 4, 5)))
    path = tmp_path / "two.ply"
    path.write_bytes(_ply_header(6, extra="element face 2\n"
                                          "property list uchar int vertex_indices\n")
                     + verts.tobytes() + face)
    out = load_cloud(path, mesh_points=20000)
    assert out.shape == (20000, 3) and np.allclose(out[:, 2], 0)
    share_big = np.mean(out[:, 0] > 1)
    assert abs(share_big - 0.75) < 0.02
    assert np.array_equal(out, load_cloud(path, mesh_points=20000))  # seeded


def test_mesh_named_otherwise_still_decodes(tmp_path):
    path = tmp_path / "cube.bin"
    _stl_binary(path, CUBE_TRIS)
    assert load_cloud(path, mesh_points=1000).shape == (1000, 3)


def test_obj_with_vertices_only_is_a_cloud(tmp_path):
    pts = _sphere(40)
    path = tmp_path / "dots.obj"
    path.write_text("".join(f"v {x!r} {y!r} {z!r}\n" for x, y, z in pts.tolist()))
    assert np.allclose(load_cloud(path), pts)


# --- Failures ---------------------------------------------------------------------------------

def test_text_file_named_ply_is_unsupported(tmp_path):
    path = tmp_path / "notes.ply"
    path.write_text("meeting notes: the scanner is broken again\n")
    with pytest.raises(UnsupportedFileError, match=r"notes\.ply: it is plain text"):
        load_cloud(path)


def test_image_named_ply_is_unsupported(tmp_path):
    path = tmp_path / "photo.ply"
    Image.new("RGB", (4, 4)).save(path, "JPEG")
    with pytest.raises(UnsupportedFileError, match=r"photo\.ply: it contains a JPEG image"):
        load_cloud(path)


def test_zero_byte_ply_is_corrupt(tmp_path):
    path = tmp_path / "empty.ply"
    path.write_bytes(b"")
    with pytest.raises(CorruptFileError, match=r"empty\.ply: the file is empty"):
        load_cloud(path)


def test_one_point_cloud_is_empty(tmp_path):
    path = tmp_path / "one.ply"
    write_ply_ascii(path, np.array([[1.0, 2.0, 3.0]]))
    with pytest.raises(EmptyInputError, match=r"one\.ply: .*only 1 usable point;"):
        load_cloud(path)


def test_nan_only_cloud_is_empty(tmp_path):
    path = tmp_path / "nan.pcd"
    path.write_bytes(_pcd_header(100, "binary") + np.full((100, 3), np.nan, "<f4").tobytes())
    with pytest.raises(EmptyInputError, match=r"nan\.pcd: .*all 100 have NaN"):
        load_cloud(path)


def test_identical_points_are_degenerate(tmp_path):
    path = tmp_path / "same.xyz"
    path.write_text("0.5 0.5 0.5\n" * 50)
    with pytest.raises(EmptyInputError, match=r"same\.xyz: all 50 points are identical"):
        load_cloud(path)


def test_header_without_points_is_empty(tmp_path):
    path = tmp_path / "none.ply"
    path.write_bytes(_ply_header(0))
    with pytest.raises(EmptyInputError, match=r"none\.ply: the PLY file has no points"):
        load_cloud(path)


@pytest.mark.parametrize("variant", ["ply_binary", "ply_ascii", "pcd_binary", "pcd_ascii",
                                     "off", "stl"])
def test_truncated_files_are_corrupt(tmp_path, variant):
    # open3d would return these full length with made-up values, or partial, without an error.
    pts = _sphere(100)
    path = tmp_path / f"cut.{variant.split('_')[0]}"
    if variant == "ply_binary":
        write_ply_binary(path, pts)
    elif variant == "ply_ascii":
        write_ply_ascii(path, pts)
    elif variant == "pcd_binary":
        path.write_bytes(_pcd_header(100, "binary") + pts.astype("<f4").tobytes())
    elif variant == "pcd_ascii":
        body = "".join(f"{x!r} {y!r} {z!r}\n" for x, y, z in pts.tolist())
        path.write_bytes(_pcd_header(100, "ascii") + body.encode())
    elif variant == "off":
        faces = [f"4 {a} {b} {c} {d}" for a, b, c, d in CUBE_QUADS]
        path.write_text("OFF\n8 6 0\n" + "\n".join(f"{x} {y} {z}" for x, y, z in CUBE_V)
                        + "\n" + "\n".join(faces) + "\n")
    else:
        _stl_binary(path, CUBE_TRIS)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(CorruptFileError, match=r"cut\.(ply|pcd|off|stl)"):
        load_cloud(path)


def test_obj_with_a_bad_face_is_corrupt(tmp_path):
    path = tmp_path / "bad.obj"
    path.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n")
    with pytest.raises(CorruptFileError, match=r"bad\.obj: a face refers to a vertex"):
        load_cloud(path)


def test_huge_header_is_refused_before_reading(tmp_path):
    path = tmp_path / "giant.ply"
    path.write_bytes(_ply_header(50_000_000) + b"\0" * 1200)
    with pytest.raises(InputTooLargeError, match=r"giant\.ply: .*50,000,000 points"):
        load_cloud(path)


def test_open3d_prints_nothing(tmp_path, capfd):
    good, text, cut = tmp_path / "good.ply", tmp_path / "text.pcd", tmp_path / "cut.ply"
    write_ply_binary(good, _sphere())
    text.write_text("VERSION 0.7\nnot really\n")
    write_ply_ascii(cut, _sphere())
    cut.write_bytes(cut.read_bytes()[:-2000])
    load_cloud(good)
    for path in (text, cut):
        with pytest.raises((CorruptFileError, UnsupportedFileError)):
            load_cloud(path)
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""
