"""Variational autoencoders: models, the ELBO and IWAE bounds, training runs, latent operations, MIG.

    from playground.vae import VAEConfig, train, evaluate, load_checkpoint
"""

from playground.vae.checkpoint import load_checkpoint, save_checkpoint
from playground.vae.config import VAEConfig
from playground.vae.metrics import evaluate, mig
from playground.vae.model import VAE, build_model
from playground.vae.train import train

__all__ = ["VAEConfig", "VAE", "build_model", "train", "evaluate", "mig", "load_checkpoint", "save_checkpoint"]
