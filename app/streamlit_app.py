"""The pages and navigation. `make app` serves it through app/server.py (which adds the live-figure feed route);
`streamlit run app/streamlit_app.py` also works, with fragment reruns in place of the feed."""

from pathlib import Path

import streamlit as st
import torch

# Tiny networks: one intra-op thread is ~10x faster than two fighting the server on 2 cores.
torch.set_num_threads(1)

st.set_page_config(page_title="Generative models playground", page_icon="🎛️", layout="wide")

VIEWS = Path(__file__).parent / "views"
pages = [
    st.Page(str(VIEWS / "home.py"), title="Home", icon=":material/home:", default=True),
    st.Page(str(VIEWS / "gan_lab.py"), title="GAN lab", icon=":material/scatter_plot:", url_path="gan_lab"),
    st.Page(str(VIEWS / "gan_games.py"), title="GAN games", icon=":material/sports_esports:",
            url_path="gan_games"),
    st.Page(str(VIEWS / "divergences.py"), title="Divergence lab", icon=":material/area_chart:",
            url_path="divergences"),
    st.Page(str(VIEWS / "vae_lab.py"), title="VAE lab", icon=":material/tune:", url_path="vae_lab"),
    st.Page(str(VIEWS / "vae_inference.py"), title="VAE inference", icon=":material/blur_on:",
            url_path="vae_inference"),
    st.Page(str(VIEWS / "families.py"), title="Model families lab", icon=":material/hub:", url_path="families"),
    st.Page(str(VIEWS / "image_train.py"), title="Image runs: train", icon=":material/model_training:",
            url_path="image_train"),
    st.Page(str(VIEWS / "image_sample.py"), title="Image runs: sample", icon=":material/grid_view:",
            url_path="image_sample"),
    st.Page(str(VIEWS / "image_probe.py"), title="Image models: probe the scores", icon=":material/troubleshoot:",
            url_path="image_probe"),
]
nav = st.navigation(pages)
nav.run()
