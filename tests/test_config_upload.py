"""The one config-upload widget (app/components/config_upload.py): a valid JSON file fills the page's widgets
before they are drawn; a bad, oversized or non-JSON file is refused with its reason and changes nothing."""

import json

import pytest
from streamlit.testing.v1 import AppTest


def _page():
    import streamlit as st

    from app.components.config_upload import config_upload
    from app.components.config_widgets import seed_state, widget
    from playground.vae.config import VAEConfig

    seed_state(VAEConfig, VAEConfig(), "t_")
    loaded = config_upload(VAEConfig, "up", lambda c: seed_state(VAEConfig, c, "t_", force=True))
    st.session_state["returned"] = loaded
    widget(VAEConfig, "kl_weight", "t_")
    widget(VAEConfig, "latent_dim", "t_")


@pytest.fixture
def at():
    app = AppTest.from_function(_page, default_timeout=30)
    app.run()
    assert not app.exception
    return app


def _upload(at, name: str, data: bytes):
    at.file_uploader(key="up").set_value((name, data, "application/json")).run()
    assert not at.exception


def test_a_valid_config_fills_the_widgets_and_is_returned_once(at):
    _upload(at, "mine.json", json.dumps({"beta": 4.5, "latent": 12}).encode())   # the old names still load
    assert (at.number_input(key="t_kl_weight").value, at.number_input(key="t_latent_dim").value) == (4.5, 12)
    assert at.session_state["returned"].kl_weight == 4.5 and [s.value for s in at.success] == ["Loaded mine.json."]
    at.run()                                       # the next run: nothing new, the values stay
    assert at.session_state["returned"] is None and not at.success
    assert at.number_input(key="t_kl_weight").value == 4.5


@pytest.mark.parametrize("data,reason", [
    (b'{"beta": 250}', "above the maximum 100"),
    (b'{"latent": 12, "nonsense": 1}', "nonsense"),
    (b"beta = 4", "JSON"),
    (b"[1, 2]", "object"),
    (b'{"beta": 1.0, "pad": "' + b"x" * 100_000 + b'"}', "limit is 100000 bytes"),
], ids=["out-of-bounds", "unknown-field", "not-json", "not-an-object", "too-big"])
def test_a_bad_file_is_refused_with_its_reason_and_changes_nothing(at, data, reason):
    at.number_input(key="t_latent_dim").set_value(7).run()
    _upload(at, "bad.json", data)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("bad.json: ") and reason in errors[0], errors
    assert at.number_input(key="t_latent_dim").value == 7 and at.number_input(key="t_kl_weight").value == 1.0
    assert at.session_state["returned"] is None
