# open_clip: its BPE vocabulary (SimpleTokenizer) and model configs are data files read from the
# package folder.
from PyInstaller.utils.hooks import collect_data_files

datas = collect_data_files("open_clip")
