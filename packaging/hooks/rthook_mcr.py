# PyInstaller runtime hook of MCR Studio's bundle (runs before the program).
#
# open3d's visualization package imports its plotly/dash web viewer (draw_plotly) when open3d
# is imported. MCR Studio uses open3d only to read 3D files, so the bundle leaves plotly, dash
# and their dependencies out (about 150 MB) and puts this stand-in in the viewer's place.
import sys
import types


def _not_bundled(*args, **kwargs):
    raise RuntimeError("open3d's plotly viewer is not part of the MCR Studio bundle")


_viewer = types.ModuleType("open3d.visualization.draw_plotly")
_viewer.get_plotly_fig = _viewer.draw_plotly = _viewer.draw_plotly_server = _not_bundled
sys.modules.setdefault("open3d.visualization.draw_plotly", _viewer)
del _viewer
