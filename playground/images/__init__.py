"""Image GANs (DCGAN, WGAN-GP, SNGAN) and a convolutional VAE: models, trainer, run directories, scores."""
