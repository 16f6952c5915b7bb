import numpy as np

from core.evaluation.report import base_drift, evaluate_pairs, markdown_table, retention


def _space(modalities, shift=0.0):
    eye = np.eye(3)
    labels = np.arange(3)
    return {m: (eye + shift, labels) for m in modalities}


def test_pairs_are_scored_only_where_a_method_embeds_both_modalities():
    spaces = {"base": _space(["image", "text"]), "leaf:audio": _space(["audio", "text"]),
              "exmcr": _space(["image", "text", "audio", "3d"])}
    pairs = evaluate_pairs(spaces)
    assert set(pairs["audio->image"]) == {"exmcr"}
    assert set(pairs["audio->text"]) == {"leaf", "exmcr"}
    assert set(pairs["image->text"]) == {"base", "exmcr"}
    assert len(pairs) == 12 and pairs["3d->audio"]["exmcr"]["R@1"] == 1.0


def test_base_drift_and_retention():
    before = {"image": np.ones((2, 3)), "text": np.zeros((2, 3))}
    assert base_drift(before, {k: v.copy() for k, v in before.items()}) == 0.0
    after = {"image": np.ones((2, 3)), "text": np.full((2, 3), 0.25)}
    assert base_drift(before, after) == 0.25
    perfect = _space(["audio", "text"])
    confused = {"audio": (np.eye(3), np.arange(3)), "text": (np.eye(3)[[1, 2, 0]], np.arange(3))}
    assert retention(perfect, perfect, "audio", "text") == 1.0
    assert retention(confused, perfect, "audio", "text") == 0.0


def test_markdown_table_has_a_row_per_pair_and_a_dash_where_no_entry():
    spaces = {"base": _space(["image", "text"]), "exmcr": _space(["image", "text", "audio"])}
    result = {"pairs": evaluate_pairs(spaces), "base_drift": 0.0,
              "leaf_retention": {"audio<->text": 1.0}}
    table = markdown_table(result)
    assert "| audio->image | – | 1.000 |" in table
    assert "Base drift: 0." in table
