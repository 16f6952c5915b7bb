import json
from pathlib import Path

import torch

from core.alignment.heads import ExMCRHead

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "exmcr_head_keys.json"


def test_state_dict_keys_and_shapes_equal_the_official_projector():
    official = json.loads(FIXTURE.read_text())["keys"]
    ours = {k: list(v.shape) for k, v in ExMCRHead().state_dict().items()}
    assert ours == official


def test_official_layout_loads_strictly_and_projects_to_unit_vectors(tmp_path):
    source = ExMCRHead()
    torch.save(source.state_dict(), tmp_path / "ex_clap.pt")  # as the official file is saved
    head = ExMCRHead()
    head.load_state_dict(torch.load(tmp_path / "ex_clap.pt", weights_only=True), strict=True)
    head.eval(), source.eval()
    x = torch.nn.functional.normalize(torch.randn(5, 512), dim=-1)
    assert torch.equal(head.leaf_only(x), source.leaf_only(x))
    assert torch.allclose(head.leaf_only(x).norm(dim=-1), torch.ones(5))


def test_head1_starts_as_identity_so_leaf_only_and_overlap_agree_at_init():
    head = ExMCRHead().eval()
    x = torch.randn(4, 512)
    assert torch.allclose(head.leaf_only(x), head.overlap(x), atol=1e-6)
