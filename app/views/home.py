"""Landing page: what each page is for, with a link to it."""

import streamlit as st

PAGES = [   # (page script, link label, icon, what it is for)
    ("gan_lab.py", "GAN lab", ":material/scatter_plot:",
     "train a GAN on a toy 2D or 1D distribution live: the discriminator's view of the plane, the samples moving "
     "along their gradients, both losses and honest metrics (modes covered, high-quality fraction, KL / reverse KL "
     "/ JS on a grid); the stabilisation toolbox (feature matching, minibatch std, label smoothing, instance "
     "noise, unrolled and packed discriminators, TTUR, EMA, R1, spectral norm) with lesson presets."),
    ("gan_games.py", "GAN games", ":material/sports_esports:",
     "the games behind GAN training: the bilinear game and the Dirac GAN, where simultaneous updates orbit or "
     "spiral out, and what averaging, R1, consensus and a smaller step do; why Wasserstein: JS, KL and W1 as two "
     "distributions slide apart."),
    ("divergences.py", "Divergence lab", ":material/area_chart:",
     "fit a Gaussian (or a mixture) to a target by minimising KL, reverse KL, JS or any f- or α-divergence, "
     "computed exactly by quadrature: mode covering versus mode seeking, the loss landscape, and the link to the "
     "GAN's optimal discriminator."),
    ("vae_lab.py", "VAE lab", ":material/tune:",
     "slide the latent variables of pretrained VAEs (the real 28×28 MNIST digits first; digits, sprites; plain, "
     "conditional and β-VAE), walk the 2D manifold, encode and interpolate images, swap classes, and train β = 1 "
     "against β = 4 in the background."),
    ("vae_inference.py", "VAE inference", ":material/blur_on:",
     "the encoder's side: the exact posterior p(z|x) of a 2-latent VAE on a grid beside q(z|x), log p(x), the "
     "ELBO's gap and IWAE; the amortisation gap; autoencoder vs VAE vs PCA; gradient estimators; the aggregate "
     "posterior; an outlier score."),
    ("families.py", "Model families lab", ":material/hub:",
     "normalizing flows, autoregressive models, VAEs, diffusion, flow matching and GANs on the same toy target, "
     "two to four at a time in lockstep (same seed, same batches), each with its own picture and one scoreboard "
     "of exact KL, bounds and sample metrics; scrub back through the history, branch, export a GIF or MP4."),
    ("image_train.py", "Image runs: train", ":material/model_training:",
     "train DCGAN, WGAN-GP, SNGAN, a class-conditional GAN, a PixelCNN, diffusion, flow matching or a VAE on real "
     "28×28 MNIST digits built in (mnist5k), digits and sprites, or MNIST, CIFAR-10, CelebA and image folders from "
     "disk, as background runs you can stop, resume and compare, with FID/KID/IS, precision/recall and exact "
     "likelihoods where a model has one."),
    ("image_sample.py", "Image runs: sample", ":material/grid_view:",
     "grids, interpolations and the truncation trick from any run or shipped model; a class × noise grid; the "
     "PixelCNN drawing pixel by pixel and completing a hidden region; the denoising trajectory."),
    ("image_probe.py", "Image models: probe the scores", ":material/troubleshoot:",
     "what FID and IS see as test images are damaged, whether a model copies its training set, and DCGAN's "
     "latent arithmetic by clicking samples."),
]

st.title("Generative models playground")
st.markdown("Watch generative models learn, and see *correct* numbers while they do.")
for script, label, icon, what in PAGES:
    st.page_link(f"views/{script}", label=label, icon=icon)
    st.caption(what[0].upper() + what[1:])
st.caption("Everything here is also scriptable: `python -m playground --help`.")
