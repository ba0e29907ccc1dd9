"""Autoencoder vs VAE vs PCA with the same latent size on the same data.

- PCA: the top-k principal directions by SVD of the centred training images (PCA is the optimal linear
  autoencoder for squared error); codes are the projections, decoding is mean + code · components.
- Autoencoder: the VAE's own architecture (playground.vae.model.VAE with the same config) used
  deterministically: code = the encoder's mean, trained on −log p(x|code) alone (no noise, no KL).
- VAE: the model itself (codes are posterior means).
Each model's decoded grid spans the box its own encoder gives the test set (the same rule for all three:
their latent scales differ). A decoded grid image counts as *off the data* when its distance to the nearest
training image exceeds what 95% of the test images have: the holes and garbage of a latent space.
The reconstruction-error sweep over latent sizes trains small models and is cached as JSON under the run root.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch

from playground.configs import to_dict
from playground.numerics import dumps
from playground.runs.root import runs_root

AE_MAX_STEPS = 3000            # the 2D autoencoder gets the VAE's own epochs, at most this many steps
SWEEP_SIZES = (2, 4, 8, 16, 32)
SWEEP_STEPS = 1200             # each model of the sweep: about this many Adam steps (100 epochs of digits)
OFF_DATA_QUANTILE = 0.95
CACHE = "cache/vae_compare"


# ---------------------------------------------------------------------------------------------- PCA
class PCA:
    """Principal components by SVD of the centred data (N, P): fit, encode, decode."""

    def __init__(self, k: int):
        self.k = int(k)

    def fit(self, X: np.ndarray) -> PCA:
        X = np.asarray(X, dtype=np.float64)
        self.mean = X.mean(0)
        _, s, vt = np.linalg.svd(X - self.mean, full_matrices=False)
        self.components = vt[:self.k]                                  # (k, P), orthonormal rows
        self.explained_variance = s[:self.k] ** 2 / (len(X) - 1)
        return self

    def encode(self, X: np.ndarray) -> np.ndarray:
        return (np.asarray(X, dtype=np.float64) - self.mean) @ self.components.T

    def decode(self, Z: np.ndarray) -> np.ndarray:
        return self.mean + np.asarray(Z, dtype=np.float64) @ self.components


def linear_autoencoder(X: np.ndarray, k: int, steps: int = 1500, lr: float = 0.02, seed: int = 0):
    """A linear encoder and decoder (with biases) trained by full-batch Adam on squared error: PCA is its
    optimum, reached up to a change of basis in the code space. Returns (encode, decode) functions."""
    X = torch.as_tensor(np.asarray(X, dtype=np.float32))
    g = torch.Generator().manual_seed(seed)
    enc = torch.nn.Linear(X.shape[1], k)
    dec = torch.nn.Linear(k, X.shape[1])
    for p in list(enc.parameters()) + list(dec.parameters()):
        torch.nn.init.normal_(p, std=0.05, generator=g)
    opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for _ in range(steps):
        loss = (dec(enc(X)) - X).pow(2).sum(1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()

    @torch.no_grad()
    def encode(A):
        return enc(torch.as_tensor(np.asarray(A, dtype=np.float32))).numpy()

    @torch.no_grad()
    def decode(Z):
        return dec(torch.as_tensor(np.asarray(Z, dtype=np.float32))).numpy()

    return encode, decode


def component_images(pca: PCA, shape) -> np.ndarray:
    """The principal directions as images (k, C, H, W) in [0, 1]: grey 0.5 is zero, white positive."""
    c = pca.components / np.abs(pca.components).max(1, keepdims=True)
    return (0.5 + 0.5 * c).reshape(len(c), *shape).astype(np.float32)


# ---------------------------------------------------------------------------------------------- training
def _fit(model, images: torch.Tensor, loss_fn: Callable, epochs: int, batch: int, lr: float, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(epochs):
        for idx in torch.randperm(len(images), generator=g).split(batch):
            loss = loss_fn(images[idx], g)
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()


def ae_loss(model):
    """−log p(x | encoder mean): the VAE's likelihood with the code taken as a point."""
    return lambda x, g: -model.log_px(x, model.encode(x)[0]).mean()


def vae_loss(model):
    return lambda x, g: model.loss(x, generator=g)[0]


def train_autoencoder(cfg, train_images: torch.Tensor, latent: int, epochs: int, variational: bool = False,
                      shape=None):
    """A model of the VAE's architecture (cfg, with `latent` dims) trained as an autoencoder or as a VAE."""
    from playground.vae.model import build_model

    cfg = dataclasses.replace(cfg, latent_dim=int(latent), conditional=False)
    model = build_model(cfg, shape or tuple(train_images.shape[1:]))
    _fit(model, train_images, (vae_loss if variational else ae_loss)(model), epochs, cfg.batch_size, cfg.lr,
         cfg.seed)
    return model


def _key(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def epochs_for(steps: int, n: int, batch: int) -> int:
    """Epochs that make about `steps` optimiser steps over n images in batches of `batch`."""
    return max(1, round(steps / max(1, -(-n // batch))))


def autoencoder_2d(cfg, train_images: torch.Tensor, epochs: int | None = None, root: Path | str | None = None):
    """The 2D autoencoder of this config (trained for the VAE's own epochs, at most AE_MAX_STEPS steps), from
    the disk cache (its weights, loaded with weights_only) or trained and stored there."""
    from playground.vae.model import build_model

    if epochs is None:
        epochs = min(cfg.epochs, epochs_for(AE_MAX_STEPS, len(train_images), cfg.batch_size))

    cfg2 = dataclasses.replace(cfg, latent_dim=2, conditional=False)
    path = Path(root or runs_root()) / CACHE / f"ae-{_key(to_dict(cfg2), epochs, list(train_images.shape))}.pt"
    if path.is_file():
        model = build_model(cfg2, tuple(train_images.shape[1:]))
        try:
            model.load_state_dict(torch.load(path, weights_only=True, map_location="cpu"))
            return model.eval()
        except (RuntimeError, OSError, ValueError):      # a stale or broken cache file: train again
            pass
    model = train_autoencoder(cfg2, train_images, 2, epochs)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(model.state_dict(), tmp)
    tmp.replace(path)
    return model


# ---------------------------------------------------------------------------------------------- views
@torch.no_grad()
def codes_and_decoder(kind: str, model, images: torch.Tensor):
    """(codes (N, k) of `images`, decode(codes) -> images (M, C, H, W) in [0, 1]) for 'pca' | 'ae' | 'vae'."""
    shape = tuple(images.shape[1:])
    if kind == "pca":
        def decode(z):   # noqa: E306
            return torch.from_numpy(model.decode(z).reshape(-1, *shape).astype(np.float32)).clamp(0, 1)
        return model.encode(images.flatten(1).numpy()), decode

    @torch.no_grad()
    def decode(z):
        return model.decode(torch.as_tensor(np.asarray(z, dtype=np.float32))).clamp(0, 1)
    return model.encode(images)[0].numpy(), decode


KINDS = ("pca", "ae", "vae")
GRID_N = 12                    # decoded grid cells per side (the page's default, `vae compare --n` too)


def three_latents(model, pca2: PCA, ae, train: torch.Tensor, test: torch.Tensor, n: int = GRID_N) -> dict:
    """The page's three panels, per kind of KINDS: the encoded test set ("codes"), the box it fills, the n x n
    images decoded over that box, which of them lie off the data, and the test reconstruction MSE."""
    out = {}
    for kind, m in zip(KINDS, (pca2, ae, model)):
        codes, decode = codes_and_decoder(kind, m, test)
        box = data_box(codes)
        grid = decode(grid_codes(box, n))
        off, _ = off_data(grid, train, test)
        out[kind] = {"codes": codes, "box": box, "grid": grid, "off": off, "off_data": float(off.mean()),
                     "mse": mse(decode(codes), test)}
    return out


def data_box(codes: np.ndarray, pad: float = 0.05) -> tuple[float, float, float, float]:
    """The box (x0, x1, y0, y1) the codes occupy, padded by `pad` of its size."""
    lo, hi = codes[:, :2].min(0), codes[:, :2].max(0)
    d = (hi - lo) * pad
    return float(lo[0] - d[0]), float(hi[0] + d[0]), float(lo[1] - d[1]), float(hi[1] + d[1])


def grid_codes(box, n: int) -> np.ndarray:
    """n x n codes over the box, row-major from the top-left (largest z1 first), like latent.grid_2d."""
    xs = np.linspace(box[0], box[1], n)
    ys = np.linspace(box[3], box[2], n)
    X, Y = np.meshgrid(xs, ys, indexing="xy")
    return np.stack([X.ravel(), Y.ravel()], 1).astype(np.float32)


def nearest_distance(images: torch.Tensor, reference: torch.Tensor) -> np.ndarray:
    """Root-mean-square pixel distance of each image to its nearest reference image."""
    a, b = images.flatten(1).double(), reference.flatten(1).double()
    d2 = (a.pow(2).sum(1, keepdim=True) - 2 * a @ b.T + b.pow(2).sum(1)).clamp_min(0).min(1).values
    return (d2 / a.shape[1]).sqrt().numpy()


def off_data(grid_images: torch.Tensor, train: torch.Tensor, test: torch.Tensor) -> tuple[np.ndarray, float]:
    """Which decoded grid images lie off the data: (mask, threshold), the threshold being the 95th percentile
    of the test images' own distance to the nearest training image."""
    threshold = float(np.quantile(nearest_distance(test, train), OFF_DATA_QUANTILE))
    return nearest_distance(grid_images, train) > threshold, threshold


def mse(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean squared error per pixel."""
    return float((a.detach().double() - b.detach().double()).pow(2).mean())


# ---------------------------------------------------------------------------------------------- the sweep
def sweep_epochs(cfg, n_train: int) -> int:
    return epochs_for(SWEEP_STEPS, n_train, cfg.batch_size)


def sweep_path(cfg, sizes, epochs: int, n_train: int, root: Path | str | None = None) -> Path:
    key = _key(to_dict(dataclasses.replace(cfg, latent_dim=0, conditional=False)), list(sizes), epochs, n_train)
    return Path(root or runs_root()) / CACHE / f"sweep-{key}.json"


def reconstruction_sweep(cfg, train: torch.Tensor, test: torch.Tensor, sizes=SWEEP_SIZES,
                         epochs: int = 1) -> Iterator[dict]:
    """Test reconstruction error (MSE per pixel) of PCA, the autoencoder and a VAE for each latent size; yields
    one row per size as it is done."""
    for k in sizes:
        pca = PCA(k).fit(train.flatten(1).numpy())
        recon = torch.from_numpy(pca.decode(pca.encode(test.flatten(1).numpy())).reshape(test.shape))
        row = {"latent": int(k), "pca": mse(recon.clamp(0, 1), test)}     # in [0, 1], as the panel shows it
        for name, variational in (("ae", False), ("vae", True)):
            model = train_autoencoder(cfg, train, k, epochs, variational=variational)
            with torch.no_grad():
                row[name] = mse(model.decode(model.encode(test)[0]), test)
        yield row


def cached_sweep(cfg, train, test, sizes=SWEEP_SIZES, epochs: int | None = None,
                 root: Path | str | None = None) -> Iterator[dict]:
    """The sweep's rows from the cache, or computed (yielded one by one) and then written there."""
    epochs = sweep_epochs(cfg, len(train)) if epochs is None else epochs
    path = sweep_path(cfg, sizes, epochs, len(train), root)
    cached = read_sweep(cfg, sizes, epochs, len(train), root)
    if cached is not None:
        yield from cached
        return
    rows = []
    for row in reconstruction_sweep(cfg, train, test, sizes, epochs):
        rows.append(row)
        yield row
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(dumps({"sizes": list(sizes), "epochs": epochs, "rows": rows}))
    tmp.replace(path)


def read_sweep(cfg, sizes=SWEEP_SIZES, epochs: int | None = None, n_train: int = 0,
               root: Path | str | None = None) -> list[dict] | None:
    epochs = sweep_epochs(cfg, n_train) if epochs is None else epochs
    path = sweep_path(cfg, sizes, epochs, n_train, root)
    try:
        data = json.loads(path.read_text())
        rows = data["rows"]
        if [r["latent"] for r in rows] == list(sizes):
            return rows
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None
