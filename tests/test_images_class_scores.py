"""Per-class scores of conditional models: a model that returns real digits of the asked class scores like the
classifier's accuracy; one that returns the next class scores near zero; the CLI prints them for a real run."""

import json

import pytest
import torch

from playground.cli import main
from playground.data import load_dataset
from playground.errors import PlaygroundError
from playground.images.class_scores import per_class_scores
from playground.images.metrics import make_extractor


class RealDigits:
    """A 'model' that draws real test digits of class (y + shift) % 10 when asked for class y."""

    num_classes = 10

    def __init__(self, images, labels, shift=0):
        self.images, self.labels, self.shift = images, labels, shift

    def sample(self, n, seed, labels):
        y = (int(labels[0]) + self.shift) % 10
        pool = self.images[self.labels == y]
        idx = torch.randperm(len(pool), generator=torch.Generator().manual_seed(seed))[:n]
        return pool[idx]


@pytest.fixture(scope="module")
def digits():
    tr, te = load_dataset("digits", "train"), load_dataset("digits", "test")
    ex = make_extractor("auto", "digits", 8, 1, load=lambda split: load_dataset("digits", split))
    return tr, te, ex


def test_asking_for_the_right_class_scores_the_classifiers_accuracy(digits):
    tr, te, ex = digits
    right = per_class_scores(RealDigits(te.images, te.labels), tr.images, tr.labels, ex, n=20)
    wrong = per_class_scores(RealDigits(te.images, te.labels, shift=1), tr.images, tr.labels, ex, n=20)
    assert len(right["per_class"]) == 10 and right["per_class"][3]["class"] == 3
    assert right["class_accuracy"] > 0.85 and wrong["class_accuracy"] < 0.1
    assert right["fid_mean"] < wrong["fid_mean"]             # each class against its own real images
    assert right["per_class_features"].startswith("classifier:digits")


def test_unconditional_models_and_tiny_n_are_refused(digits):
    tr, _, ex = digits

    class Plain:
        num_classes = None

    with pytest.raises(PlaygroundError, match="class-conditional"):
        per_class_scores(Plain(), tr.images, tr.labels, ex)
    with pytest.raises(PlaygroundError, match="at least 2"):
        per_class_scores(RealDigits(tr.images, tr.labels), tr.images, tr.labels, ex, n=1)


def test_eval_cli_per_class_on_a_conditional_run(tmp_path, capsys):
    out = tmp_path / "cgan"
    assert main(["images", "train", "--dataset", "digits", "--model", "cgan", "--steps", "2", "--batch-size", "8",
                 "--g-width", "8", "--d-width", "8", "--latent-dim", "4", "--final-eval", "0", "--eval-every", "0",
                 "--threads", "1", "--out", str(out), "--json"]) == 0
    capsys.readouterr()
    assert main(["images", "eval", "--run", str(out), "--n", "30", "--per-class", "5", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert [r["class"] for r in res["per_class"]] == list(range(10))
    assert all(0.0 <= r["class_accuracy"] <= 1.0 and r["n_fake"] == 5 for r in res["per_class"])
    assert main(["images", "train", "--dataset", "digits", "--steps", "1", "--batch-size", "8", "--g-width", "8",
                 "--d-width", "8", "--latent-dim", "4", "--final-eval", "0", "--eval-every", "0", "--threads", "1",
                 "--out", str(tmp_path / "dc"), "--json"]) == 0
    capsys.readouterr()
    assert main(["images", "eval", "--run", str(tmp_path / "dc"), "--n", "20", "--per-class", "5"]) == 2
