"""Landing page: what each lab is for."""

import streamlit as st

st.title("Generative models playground")
st.markdown(
    "Watch generative models learn, and see *correct* numbers while they do.\n\n"
    "- **GAN lab**: train a GAN on a toy 2D or 1D distribution live: the discriminator's view of the plane, "
    "the samples moving along their gradients, both losses, and honest metrics (modes covered, "
    "high-quality fraction, KL / reverse KL / JS on a grid). Change the loss or a learning rate while it runs."
)
st.page_link("views/gan_lab.py", label="Open the GAN lab", icon=":material/scatter_plot:")
st.caption("Everything here is also scriptable: `python -m playground --help`.")
