"""Landing page: what each lab is for."""

import streamlit as st

st.title("Generative models playground")
st.markdown(
    "Watch generative models learn, and see *correct* numbers while they do.\n\n"
    "- **GAN lab**: train a GAN on a toy 2D or 1D distribution live: the discriminator's view of the plane, "
    "the samples moving along their gradients, both losses, and honest metrics (modes covered, "
    "high-quality fraction, KL / reverse KL / JS on a grid). Change the loss or a learning rate while it runs.\n"
    "- **Divergence lab**: fit a Gaussian (or a mixture) to a target by minimising KL, reverse KL, JS or any "
    "f- or α-divergence, computed exactly by quadrature: see mode covering versus mode seeking, the loss "
    "landscape, and the link to the GAN's optimal discriminator.\n"
    "- **VAE lab**: slide the latent variables of pretrained VAEs (digits, sprites; plain, conditional and "
    "β-VAE) and watch the decoded image, walk the 2D manifold, encode and interpolate images, swap classes, "
    "and train β = 1 against β = 4 in the background to compare reconstruction, KL and disentanglement (MIG).\n"
    "- **Model families lab**: normalizing flows, autoregressive models, VAEs, diffusion, flow matching and GANs "
    "on the same toy target, two to four at a time in lockstep (same seed, same batches), each with its own "
    "picture (exact density, warped noise grid, conditional slice, encoder map, score or velocity field through "
    "time, discriminator) and one scoreboard of exact KL, bounds and sample metrics; scrub back through the "
    "history, branch from any frame, export it as GIF or MP4.\n"
    "- **Image runs**: train DCGAN, WGAN-GP, SNGAN or a convolutional VAE on image datasets (digits and "
    "procedural sprites built in; MNIST, CIFAR-10, CelebA, image folders and .npz from disk) as background "
    "runs you can stop, resume and compare, with FID/KID and precision/recall labelled by their feature "
    "extractor; then sample grids, interpolations and the truncation trick."
)
st.page_link("views/gan_lab.py", label="Open the GAN lab", icon=":material/scatter_plot:")
st.page_link("views/divergences.py", label="Open the divergence lab", icon=":material/area_chart:")
st.page_link("views/vae_lab.py", label="Open the VAE lab", icon=":material/tune:")
st.page_link("views/families.py", label="Open the model families lab", icon=":material/hub:")
st.page_link("views/image_train.py", label="Train an image model", icon=":material/model_training:")
st.caption("Everything here is also scriptable: `python -m playground --help`.")
