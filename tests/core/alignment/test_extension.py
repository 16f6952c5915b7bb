"""Extending a base space with both leaves on synthetic spaces: every method's shared space, the
base embeddings as inputs only, C-MCR's shared base projector frozen, resumable training."""

import numpy as np
import pytest
import torch

from core.alignment.exmcr import HeadTraining, train_head
from core.alignment.extension import (
    Embeddings,
    ExtensionSettings,
    evaluation_spaces,
    leaf_pools,
    train_extension,
)
from core.alignment.pseudo_pairs import aggregate
from core.errors import Cancelled, UsageError
from core.evaluation.report import check_targets, evaluate_extension
from tests.core.alignment.synthetic import make_embeddings

SETTINGS = ExtensionSettings(tau=0.05, head=HeadTraining(
    epochs=25, batch_size=128, lr=2e-3, temperature=0.05, warmup_steps=5))


@pytest.fixture(scope="module")
def trained():
    pool, test = make_embeddings()
    base_before = {m: v.copy() for m, v in pool.base.items()}
    return pool, test, train_extension(pool, SETTINGS), base_before


def test_every_method_embeds_all_four_modalities_and_emergent_pairs_are_learned(trained):
    pool, test, ext, base_before = trained
    spaces = evaluation_spaces(test, ext)
    assert set(spaces) == {"leaf:audio", "leaf:3d", "exmcr", "cmcr", "oracle"}
    for method in ("exmcr", "cmcr", "oracle"):
        assert set(spaces[method]) == {"image", "text", "audio", "3d"}
    result = evaluate_extension(spaces, drift=0.0)
    chance = 1 / 12
    for pair in ("audio->image", "image->audio", "3d->audio", "audio->3d"):
        assert set(result["pairs"][pair]) == {"cmcr", "exmcr", "oracle"}  # no leaf sees both
        assert result["pairs"][pair]["exmcr"]["R@1"] > 5 * chance, (pair, result["pairs"][pair])
    assert set(result["pairs"]["audio->text"]) == {"leaf", "cmcr", "exmcr", "oracle"}
    assert set(result["leaf_retention"]) == {"audio<->text", "3d<->image"}
    # The pools' base embeddings were read, never written.
    for m, v in base_before.items():
        assert np.array_equal(pool.base[m], v)


def test_exmcr_passes_base_embeddings_through_unchanged_and_cmcr_does_not(trained):
    _, test, ext, _ = trained
    spaces = evaluation_spaces(test, ext)
    for m in ("image", "text"):
        assert spaces["exmcr"][m][0] is test.base[m]
        assert not np.allclose(spaces["cmcr"][m][0], test.base[m])


def test_cmcr_second_leaf_shares_the_first_leafs_base_projector_frozen(trained):
    _, _, ext, _ = trained
    first, second = ext.cmcr["audio"], ext.cmcr["3d"]
    assert second.base is first.base and second.shared_base and not first.shared_base
    assert not any(p.requires_grad for p in second.base.parameters())


def test_shared_base_projector_is_unchanged_by_the_second_leafs_training():
    from core.alignment.cmcr import train_cmcr

    pool, _ = make_embeddings(seed=3)
    first, _ = train_cmcr(aggregate(leaf_pools(pool, _leaf("audio")), tau=0.05), SETTINGS.head)
    before = {k: v.clone() for k, v in first.base.state_dict().items()}
    train_cmcr(aggregate(leaf_pools(pool, _leaf("3d")), tau=0.05), SETTINGS.head,
               base=first.base)
    for key, value in first.base.state_dict().items():
        assert torch.equal(value, before[key]), key  # weights and BatchNorm statistics


def _leaf(name):
    from core.alignment.extension import LEAVES

    return LEAVES[name]


def test_a_cancelled_head_training_resumes_to_the_same_weights(tmp_path):
    pool, _ = make_embeddings(seed=1)
    tuples = aggregate(leaf_pools(pool, _leaf("audio")), tau=0.05)
    settings = HeadTraining(epochs=6, batch_size=64, warmup_steps=3)
    reference, ref_history = train_head(tuples, settings)
    steps = {"n": 0}

    def cancel_midway():
        steps["n"] += 1
        return steps["n"] > 40  # a few epochs in

    checkpoint = tmp_path / "head.pt"
    with pytest.raises(Cancelled):
        train_head(tuples, settings, cancel=cancel_midway, checkpoint=checkpoint)
    assert checkpoint.is_file()
    resumed, history = train_head(tuples, settings, checkpoint=checkpoint)
    assert history == ref_history
    for key, value in reference.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[key]), key


def test_a_checkpoint_of_other_settings_or_a_damaged_one_is_not_used(tmp_path):
    pool, _ = make_embeddings(seed=2)
    tuples = aggregate(leaf_pools(pool, _leaf("3d")), tau=0.05)
    checkpoint = tmp_path / "head.pt"
    train_head(tuples, HeadTraining(epochs=2, batch_size=64), checkpoint=checkpoint)
    reference, _ = train_head(tuples, HeadTraining(epochs=3, batch_size=64))
    other, history = train_head(tuples, HeadTraining(epochs=3, batch_size=64),
                                checkpoint=checkpoint)
    assert len(history) == 3
    checkpoint.write_bytes(b"not a checkpoint")
    damaged, _ = train_head(tuples, HeadTraining(epochs=3, batch_size=64),
                            checkpoint=checkpoint)
    for key, value in reference.state_dict().items():
        assert torch.equal(value, other.state_dict()[key]), key
        assert torch.equal(value, damaged.state_dict()[key]), key


def test_missing_pool_embeddings_and_unknown_methods_are_clear_errors():
    pool, _ = make_embeddings()
    del pool.leaves["3d"]
    with pytest.raises(UsageError, match="no 3d embeddings for the 3d leaf"):
        train_extension(pool, ExtensionSettings(methods=("exmcr",)))
    with pytest.raises(UsageError, match="Unknown alignment method 'magic'"):
        train_extension(pool, ExtensionSettings(methods=("magic",)))


def test_embeddings_round_trip_through_npz(tmp_path):
    pool, _ = make_embeddings()
    pool.save(tmp_path / "pool.npz")
    back = Embeddings.load(tmp_path / "pool.npz")
    assert back.base.keys() == pool.base.keys() and back.labels.keys() == pool.labels.keys()
    for leaf, vs in pool.leaves.items():
        for m, v in vs.items():
            assert np.array_equal(back.leaves[leaf][m], v)


def test_targets_compare_pair_means_against_oracle_and_cmcr_and_fail_without_a_reference():
    def entry(exmcr, oracle, cmcr):
        return {"exmcr": {"R@1": exmcr}, "oracle": {"R@1": oracle}, "cmcr": {"R@1": cmcr}}

    pairs = {"audio->image": entry(0.6, 0.6, 0.5), "image->audio": entry(0.4, 0.5, 0.3),
             "3d->audio": entry(0.5, 0.5, 0.4)}  # no audio->3d entry at all
    result = {"pairs": pairs, "base_drift": 0.0,
              "leaf_retention": {"audio<->text": 0.97, "3d<->image": 0.9}}
    rows = {r["target"]: r for r in check_targets(result)}
    # audio<->image: mean 0.5 against oracle 0.55 (0.9 x = 0.495) and C-MCR 0.4 (1.2 x = 0.48)
    assert rows["audio<->image R@1 >= 0.9 x oracle"]["value"] == pytest.approx(0.5)
    assert rows["audio<->image R@1 >= 0.9 x oracle"]["ok"]
    assert rows["audio<->image R@1 >= 1.2 x cmcr"]["ok"]
    assert not rows["3d<->audio R@1 >= 0.9 x oracle"]["ok"]  # a direction is missing
    assert rows["base drift == 0"]["ok"] and rows["audio<->text retention >= 0.95"]["ok"]
    assert not rows["3d<->image retention >= 0.95"]["ok"]
    pairs["image->audio"]["cmcr"]["R@1"] = 0.35  # C-MCR mean 0.425: 1.2 x = 0.51 > 0.5
    result["base_drift"] = 1e-9
    rows = {r["target"]: r["ok"] for r in check_targets(result)}
    assert not rows["audio<->image R@1 >= 1.2 x cmcr"] and not rows["base drift == 0"]


def test_a_checkpoint_of_other_data_is_not_used(tmp_path):
    pool, _ = make_embeddings(seed=2)
    tuples = aggregate(leaf_pools(pool, _leaf("3d")), tau=0.05)
    other = aggregate(leaf_pools(pool, _leaf("3d")), tau=0.1)  # same size, other pairs
    settings = HeadTraining(epochs=2, batch_size=64)
    checkpoint = tmp_path / "head.pt"
    train_head(tuples, settings, checkpoint=checkpoint)
    reference, _ = train_head(other, settings)
    resumed, _ = train_head(other, settings, checkpoint=checkpoint)
    for key, value in reference.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[key]), key
