"""The families page places a GAN-lab lesson side by side: its preset builds both GANs from the GAN lab's full
configs, the settings panel shows them, they step in lockstep, and the URL carries them."""

import pytest
from streamlit.testing.v1 import AppTest

from tests.test_page_families import PAGE, close_page_workers  # noqa: F401 - the fixture closes the page's process

pytestmark = pytest.mark.timeout(180)


def test_a_gan_lesson_preset_side_by_side():
    from playground.toy.config import ToyConfig
    from playground.toy.presets import PRESETS

    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    at.selectbox(key="fam_preset").set_value("gan_pack").run()
    assert not at.exception and not at.error
    lab = at.session_state["fam_lab"]
    assert [c.toy_config() for c in lab.cfgs] == [PRESETS[n].config(ToyConfig) for n in
                                                 ("mode_collapse_ring8", "fix_pack")]
    assert "pack=2" in at.multiselect(key="fam1_gan_settings").value
    at.button(key="fam_step").click().run()
    assert not at.exception and lab.step == 1 and lab.model_steps == [1, 1]
    assert "pack=2" in str(at.query_params["m2.gan_settings"])
