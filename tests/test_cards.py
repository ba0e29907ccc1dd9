"""playground.cards: the one reader/writer of model cards, and the engine's card lookups that go through it."""

import json
import math

import pytest

from playground import cards
from playground.cards import read_card, read_cards, write_card
from playground.errors import PlaygroundError


def strict_loads(text: str):
    def refuse(token):
        raise ValueError(token)
    return json.loads(text, parse_constant=refuse)


def test_write_then_read_is_standard_json(tmp_path):
    card = {"name": "m", "kind": "vae", "metrics": {"fid": math.inf, "kl": 0.5}}
    write_card(tmp_path, "m", card)
    assert strict_loads((tmp_path / "m.json").read_text())["metrics"] == {"fid": None, "kl": 0.5}
    assert read_card(tmp_path / "m.json") == {"name": "m", "kind": "vae", "metrics": {"fid": None, "kl": 0.5}}
    assert read_card(tmp_path / "m.json", kind="vae")["name"] == "m"
    assert read_card(tmp_path / "m.json", kind="image-run") is None        # another kind
    assert read_card(tmp_path / "missing.json") is None


@pytest.mark.parametrize("text", ["not json", "[1, 2]", '{"name": "x"}', '{"kind": 3}'])
def test_a_broken_card_is_an_error_not_a_silent_skip(tmp_path, text):
    (tmp_path / "x.json").write_text(text)
    with pytest.raises(PlaygroundError, match="is unreadable"):
        read_card(tmp_path / "x.json")


def test_an_oversized_card_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(cards, "MAX_CARD_BYTES", 50)
    write_card(tmp_path, "big", {"name": "big", "kind": "vae", "pad": "x" * 100})
    with pytest.raises(PlaygroundError, match="too big"):
        read_card(tmp_path / "big.json")


def test_read_cards_lists_present_cards_of_one_kind(tmp_path):
    write_card(tmp_path, "a", {"name": "a", "kind": "vae", "weights": "a.pt"})
    write_card(tmp_path, "b", {"name": "b", "kind": "vae", "weights": "b.pt"})
    write_card(tmp_path, "c", {"name": "c", "kind": "image-run"})
    (tmp_path / "broken.json").write_text("{")
    (tmp_path / "a.pt").write_bytes(b"")
    found = read_cards(tmp_path, "vae", lambda card: (tmp_path / card["weights"]).is_file())
    assert list(found) == ["a"]


def test_image_card_of_and_vae_card_sha256_read_through_cards(tmp_path):
    from playground.images.sampling import card_of
    from playground.vae.checkpoint import card_sha256

    (tmp_path / "run").mkdir()
    assert card_of(tmp_path / "run") is None                     # an ordinary run has no card
    write_card(tmp_path, "run", {"name": "run", "kind": "image-run", "sha256": "ab"})
    assert card_of(tmp_path / "run")["sha256"] == "ab"
    (tmp_path / "run.json").write_text('{"fid": 12.5, "state": "completed"}')   # the user's saved --json summary
    assert card_of(tmp_path / "run") is None
    (tmp_path / "run.json").write_text("{broken")
    assert card_of(tmp_path / "run") is None

    weights = tmp_path / "m.pt"
    write_card(tmp_path, "m", {"name": "m", "kind": "vae", "weights": "m.pt", "sha256": "cd"})
    assert card_sha256(weights) == "cd"
    (tmp_path / "m.json").write_text('{"lr": 0.1}')           # a user's own JSON beside their file
    assert card_sha256(weights) is None


def test_shipped_cards_parse_through_the_reader():
    from playground.images.pretrained import MODELS as IMAGE_MODELS
    from playground.images.pretrained import cards as image_cards
    from playground.vae.pretrained import MODELS as VAE_MODELS
    from playground.vae.pretrained import cards as vae_cards

    assert set(vae_cards()) == set(VAE_MODELS) and set(image_cards()) == set(IMAGE_MODELS)


def test_a_broken_card_of_a_shipped_image_model_is_an_error(tmp_path, monkeypatch):
    from playground.images import sampling

    monkeypatch.setattr(sampling, "PRETRAINED_RUNS", tmp_path)
    (tmp_path / "run").mkdir()
    (tmp_path / "run.json").write_text("{broken")
    with pytest.raises(PlaygroundError, match="unreadable"):
        sampling.card_of(tmp_path / "run")


def test_a_broken_card_is_an_error_only_among_the_shipped_files(tmp_path):
    from playground.cards import card_beside

    (tmp_path / "shipped").mkdir()
    for where in (tmp_path, tmp_path / "shipped"):
        (where / "m.json").write_text('{"lr": 0.1}')
    assert card_beside(tmp_path / "m.json", "vae", tmp_path / "shipped") is None
    with pytest.raises(PlaygroundError, match="unreadable"):
        card_beside(tmp_path / "shipped" / "m.json", "vae", tmp_path / "shipped")
    write_card(tmp_path / "shipped", "m", {"name": "m", "kind": "vae"})
    assert card_beside(tmp_path / "shipped" / "m.json", "vae", tmp_path / "shipped")["name"] == "m"
    assert card_beside(tmp_path / "shipped" / "m.json", "image-run", tmp_path / "shipped") is None
