# laion_clap: MCR Studio uses only its `clap_module` subpackage, which core/encoders/clap.py runs
# from its folder under a private name (laion_clap's own __init__ reaches model hubs at import).
# So the package is collected as source files on disk (found by importlib.util.find_spec, then
# executed from the folder), with clap_module's model configs and BPE vocabulary, and
# clap_module's imports are analysed (hiddenimports) so that torchlibrosa, librosa, h5py,
# sklearn.metrics and the rest are bundled. Its training and evaluation code is left out.
from pathlib import Path

from PyInstaller.utils.hooks import collect_data_files, get_package_paths

module_collection_mode = "py"
_folder = Path(get_package_paths("laion_clap")[1]) / "clap_module"
hiddenimports = sorted(f"laion_clap.clap_module.{p.stem}" for p in _folder.glob("*.py")
                       if p.stem != "__init__") + ["laion_clap.clap_module"]
excludedimports = ["laion_clap.hook", "laion_clap.training", "laion_clap.evaluate",
                   "laion_clap.unit_test"]
datas = collect_data_files("laion_clap", subdir="clap_module")
