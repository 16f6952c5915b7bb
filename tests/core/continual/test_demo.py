"""The demo sequence on the demo world (quick sets): CMCL against fine-tuning, EWC and replay,
and the pack's own retrieval kept; `mcr demo continual --quick --json` prints that object."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.cli.main import main
from core.continual.demo import demo_sequence, plot


@pytest.mark.slow
def test_no_step_trains_on_held_out_items(quick_data):
    sequence = demo_sequence(quick_data)
    assert [p.name[0] for p in sequence.probes] == ["1", "2", "3", "4"]
    held = {tuple(np.round(v, 5)) for v in sequence.held_out["image"][0][:50]}
    train = {tuple(np.round(v, 5)) for s in sequence.steps if s.m1 == "image"
             for v in s.x1.numpy()}
    assert not held & train


@pytest.mark.slow
def test_demo_continual_json_meets_the_targets(quick_data, capsys, tmp_path):
    assert main(["demo", "continual", "--quick", "--json", "--plots", str(tmp_path)]) == 0
    out = json.loads(capsys.readouterr().out)
    cmcl, finetune, ewc = out["cmcl"], out["finetune"], out["ewc"]
    assert {"cmcl", "finetune", "ewc", "replay", "alone", "sweep", "targets"} <= set(out)
    assert len(cmcl["per_step"]) == 5 and len(cmcl["matrix"]) == 5
    # the comparison means something: the notes start near chance and are learned ...
    assert cmcl["matrix"][0][0] < 0.15 and out["alone"]["per_step"][0]["R@1"] > 0.35
    # ... and plain fine-tuning forgets clearly, the pack's own retrieval included
    assert finetune["forgetting"] > 0.05 and finetune["pack_drop"] > 0.3
    # the targets (measured: forgetting 0.07x, plasticity 0.91x, pack drop 0.015)
    assert cmcl["forgetting"] <= 0.2 * finetune["forgetting"]
    assert cmcl["plasticity"] >= 0.9 * finetune["plasticity"]
    assert cmcl["pack_drop"] <= 0.02
    assert cmcl["forgetting"] < ewc["forgetting"]
    assert (tmp_path / "continual-accuracy.png").stat().st_size > 10_000
    assert (tmp_path / "continual-tradeoff.png").stat().st_size > 10_000


def test_plots_are_written_from_a_result(tmp_path):
    fake = {m: {"matrix": [[0.1, 0.2], [0.5, 0.3]], "forgetting": 0.1, "plasticity": 0.4,
                "steps": ["1 a", "2 b"]} for m in ("cmcl", "finetune", "ewc", "replay")}
    fake["sweep"] = [{"lambda_min": 1e-4, "forgetting": 0.01, "plasticity": 0.4}]
    paths = plot(fake, tmp_path / "plots")
    assert [p.name for p in paths] == ["continual-accuracy.png", "continual-tradeoff.png"]
    assert all(p.stat().st_size > 5_000 for p in paths)
