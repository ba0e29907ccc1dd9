"""GAN games: the bilinear game and the Dirac GAN (why training circles, and what fixes it), and why a
Wasserstein critic gives the generator a gradient where a saturated sigmoid D gives none."""

import numpy as np
import streamlit as st

from app.components.config_widgets import config_from_state, lesson_caption, seed_from_url, seed_state, widget
from playground.configs import to_query
from playground.games import plots
from playground.games.bilinear import GameConfig, field_grid, norm_law, run_game
from playground.games.presets import GAME_PRESETS
from playground.games.wasserstein import WassersteinConfig, critic_view, divergence_curves

G, W = "gg_", "gw_"          # widget-key prefixes of the two configs
SS = st.session_state
CHART = {"config": {"displaylogo": False}}

problems = seed_from_url(GameConfig, G, "gg_url_seeded") + seed_from_url(WassersteinConfig, W, "gw_url_seeded")
seed_state(GameConfig, GameConfig(), G)
seed_state(WassersteinConfig, WassersteinConfig(), W)


def _on_preset() -> None:
    seed_state(GameConfig, GAME_PRESETS[SS["gg_preset"]].config(GameConfig), G, force=True)


st.title("GAN games")
for p in problems:
    st.warning(f"Ignored a bad URL setting: {p}")
game_tab, wass_tab = st.tabs(["Two-player game", "Why Wasserstein"])

with game_tab:
    left, right = st.columns([1, 2.4])
    with left:
        st.selectbox("Lesson", list(GAME_PRESETS), key="gg_preset", format_func=lambda k: GAME_PRESETS[k].title,
                     on_change=_on_preset)
        lesson = st.empty()
        widget(GameConfig, "game", G)
        widget(GameConfig, "method", G)
        widget(GameConfig, "lr", G, label="step size η", step=0.01, format="%.3f")
        widget(GameConfig, "steps", G, step=50)
        c1, c2 = st.columns(2)
        widget(GameConfig, "x0", G, c1, label="start x", step=0.1)
        widget(GameConfig, "y0", G, c2, label="start y", step=0.1)
        widget(GameConfig, "hist_avg", G, label="historical averaging λ", step=0.1)
        widget(GameConfig, "r1", G, label="R1 γ (discriminator)", step=0.1)
        widget(GameConfig, "consensus", G, label="consensus c", step=0.1)
    game_cfg, game_err = config_from_state(GameConfig, G, GameConfig())
    if game_err:
        st.error(f"Invalid setting: {game_err}")
    lesson_caption(lesson, GAME_PRESETS[SS["gg_preset"]], game_cfg)
    result = run_game(game_cfg)
    extent = plots.view_extent(result["path"])
    with right:
        st.plotly_chart(plots.game_figure(game_cfg, result, field_grid(game_cfg, extent)), key="gg_fig_plane",
                        **CHART)
        st.plotly_chart(plots.norm_figure(result), key="gg_fig_norm", **CHART)
        final = result["norm"][np.isfinite(result["norm"])]
        st.caption(f"|z| goes from {final[0]:.3g} to {final[-1]:.3g} in {len(final) - 1} steps. "
                   + (norm_law(game_cfg) or ""))

with wass_tab:
    left, right = st.columns([1, 2.4])
    with left:
        widget(WassersteinConfig, "shape", W)
        widget(WassersteinConfig, "width", W, step=0.05)
        widget(WassersteinConfig, "theta", W, label="shift θ", step=0.1)
        widget(WassersteinConfig, "d_steps", W, label="D training steps", step=100)
        widget(WassersteinConfig, "d_lr", W, label="D learning rate", step=0.5)
        st.caption("Once the supports separate, JS is stuck at log 2 and KL is infinite: neither says how far "
                   "apart the bumps are, so a D near its optimum gives G no useful gradient. W1 = |θ| keeps "
                   "growing with the distance, and its critic's slope is 1 everywhere.")
    wass_cfg, wass_err = config_from_state(WassersteinConfig, W, WassersteinConfig())
    if wass_err:
        st.error(f"Invalid setting: {wass_err}")
    thetas = np.linspace(-4, 4, 401)
    with right:
        st.plotly_chart(plots.divergence_figure(divergence_curves(wass_cfg.shape, wass_cfg.width, thetas),
                                                wass_cfg.theta), key="gw_fig_div", **CHART)
        view = critic_view(wass_cfg)
        st.plotly_chart(plots.critic_figure(view), key="gw_fig_critic", **CHART)
        st.plotly_chart(plots.push_figure(view), key="gw_fig_push", **CHART)

want = {**to_query(game_cfg), **to_query(wass_cfg)}          # both configs in the URL: a shareable setup
if want != {k: st.query_params[k] for k in st.query_params}:
    st.query_params.from_dict(want)
