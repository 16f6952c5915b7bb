"""Ex-MCR head training on synthetic spaces: emergent audio->image retrieval appears without a
single audio-image pair; the base embeddings are inputs only and never change."""

import torch

from core.alignment.exmcr import HeadTraining, train_head
from core.alignment.pseudo_pairs import Pools, aggregate
from core.evaluation.metrics import retrieval_scores
from tests.core.alignment.synthetic import make_spaces

SETTINGS = HeadTraining(epochs=40, batch_size=256, lr=2e-3, temperature=0.05, warmup_steps=5)


def _tuples(spaces):
    p = spaces.pools
    return aggregate(Pools(p["audio"][0], p["text_leaf"][0], p["text_base"][0], p["image"][0]),
                     tau=0.05)


def test_emergent_audio_to_image_retrieval_beats_chance_widely():
    spaces = make_spaces()
    base_before = spaces.test["image"][0].clone()
    head, history = train_head(_tuples(spaces), SETTINGS)
    assert history[-1] < history[0]
    audio, labels = spaces.test["audio"]
    with torch.no_grad():
        projected = head.leaf_only(audio)
    image, image_labels = spaces.test["image"]
    scores = retrieval_scores(projected.numpy(), labels.numpy(), image.numpy(),
                              image_labels.numpy())
    assert scores["R@1"] > 10 * (1 / 20), scores  # chance is 1/20
    assert torch.equal(spaces.test["image"][0], base_before)


def test_untrained_head_does_not_retrieve():
    spaces = make_spaces()
    head, _ = train_head(_tuples(spaces), HeadTraining(epochs=0))
    audio, labels = spaces.test["audio"]
    image, image_labels = spaces.test["image"]
    with torch.no_grad():
        scores = retrieval_scores(head.leaf_only(audio).numpy(), labels.numpy(),
                                  image.numpy(), image_labels.numpy())
    assert scores["R@1"] < 0.3


def test_training_is_deterministic_for_a_seed():
    tuples = _tuples(make_spaces())
    settings = HeadTraining(epochs=2, batch_size=128)
    a, _ = train_head(tuples, settings)
    b, _ = train_head(tuples, settings)
    for key, value in a.state_dict().items():
        assert torch.equal(value, b.state_dict()[key]), key


def test_cmcr_and_the_paired_oracle_also_learn_the_emergent_pair():
    from core.alignment.cmcr import train_cmcr
    from core.alignment.pseudo_pairs import oracle_tuples

    spaces = make_spaces()
    p = spaces.pools
    audio, labels = spaces.test["audio"]
    image, image_labels = spaces.test["image"]
    cmcr, _ = train_cmcr(_tuples(spaces), SETTINGS)
    with torch.no_grad():
        c = retrieval_scores(cmcr.leaf(audio).numpy(), labels.numpy(),
                             cmcr.base(image).numpy(), image_labels.numpy())
    pools = Pools(p["audio"][0], p["text_leaf"][0], p["text_base"][0], p["image"][0])
    oracle = oracle_tuples(pools, {"leaf_only": p["audio"][1], "overlap": p["text_leaf"][1],
                                   "base_other": p["image"][1]})
    assert (oracle.leaf_only.shape == oracle.base_other.shape)
    head, _ = train_head(oracle, SETTINGS)
    with torch.no_grad():
        o = retrieval_scores(head.leaf_only(audio).numpy(), labels.numpy(), image.numpy(),
                             image_labels.numpy())
    assert c["R@1"] > 0.25 and o["R@1"] > 0.5, (c, o)


def test_each_epoch_reports_loss_tag_and_probe_without_changing_training(tmp_path):
    from core.alignment.exmcr import exmcr_loss, train_projector
    from core.alignment.heads import ExMCRHead

    tuples = _tuples(make_spaces())
    settings = HeadTraining(epochs=3, batch_size=128, warmup_steps=2)

    def run(probe=None, tag=None, checkpoint=None):
        seen = []
        head, history = train_head(tuples, settings, progress=seen.append, probe=probe,
                                   tag=tag, checkpoint=checkpoint)
        return head, history, [p.metrics for p in seen if p.metrics is not None]

    plain, plain_history, plain_reports = run()
    modes = []

    def probe(head):
        modes.append(head.training)
        torch.rand(3)  # a probe that draws random numbers must not move the training
        return {"held_out_r1": 0.25}

    probed, history, reports = run(probe, {"leaf": "audio"})
    assert history == plain_history and modes == [False] * 3
    for key, value in plain.state_dict().items():  # BatchNorm's running statistics included
        assert torch.equal(value, probed.state_dict()[key]), key
    assert [r["epoch"] for r in reports] == [1, 2, 3]
    assert [r["loss"] for r in reports] == history
    assert all(r["held_out_r1"] == 0.25 and r["leaf"] == "audio" for r in reports)
    assert plain_reports == [{"epoch": e, "loss": v} for e, v in enumerate(history, 1)]

    # A resumed run reports its restored epochs' losses, and probes the restored head.
    checkpoint = tmp_path / "head.pt"
    torch.manual_seed(0)
    train_projector(ExMCRHead(tuples.leaf_only.shape[1]), tuples, exmcr_loss,
                    HeadTraining(epochs=3, batch_size=128, warmup_steps=2), checkpoint=checkpoint)
    _, resumed, resumed_reports = run(probe, {"leaf": "audio"}, checkpoint)
    assert resumed == history
    assert [(r["epoch"], r["loss"], "held_out_r1" in r) for r in resumed_reports] == [
        (e, v, e == 3) for e, v in enumerate(history, 1)]  # the restored head is epoch 3's
