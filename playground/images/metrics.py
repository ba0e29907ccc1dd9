"""Quality scores of generated images: FID and KID (torchmetrics) and k-NN precision/recall, in a named feature space.

Inception-v3 weights cannot be downloaded here and mean little for 8x8 digits, so the feature extractor is
pluggable:
  classifier  a small CNN the project trains on the dataset's labels (cached; shipped in pretrained/features
              for digits and sprites); its test accuracy travels with every score
  random      a fixed, seeded, untrained CNN (for datasets without labels)
  inception   torchvision's Inception-v3, only if its weights file is present locally
Every score carries `fid_features`, a label like "classifier:digits-8px-1ch (test acc 0.97)", so nobody
compares a digits-classifier FID with a published Inception FID.

Features are extracted once per evaluation and fed to torchmetrics' FrechetInceptionDistance and
KernelInceptionDistance through a pass-through `feature=` module, so FID, KID and precision/recall share them.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from playground.errors import PlaygroundError
from playground.paths import pretrained_dir

PRETRAINED_FEATURES = pretrained_dir() / "features"
FEATURE_DIM = 64


# ------------------------------------------------------------------ feature extractors
class ClassifierNet(nn.Module):
    """A small CNN classifier; `features` (64-d) is the layer the scores use."""

    def __init__(self, channels: int, resolution: int, num_classes: int, width: int = 32):
        super().__init__()
        self.channels, self.resolution, self.num_classes = channels, resolution, num_classes
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, 1, 1), nn.ReLU(True)]
        c, r = width, resolution
        while r > 4:
            layers += [nn.Conv2d(c, c * 2, 3, 2, 1), nn.ReLU(True)]
            c, r = c * 2, (r + 1) // 2          # a stride-2 conv with padding 1 rounds up (7 -> 4)
        layers += [nn.Conv2d(c, c, 3, 1, 1), nn.ReLU(True), nn.Flatten(), nn.Linear(c * r * r, FEATURE_DIM),
                   nn.ReLU(True)]
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(FEATURE_DIM, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


@dataclass
class FeatureExtractor:
    """A frozen network mapping images in [0, 1] (N, C, H, W) to feature vectors, with a label for scores."""

    name: str
    net: nn.Module
    fn: Callable[[nn.Module, torch.Tensor], torch.Tensor]
    dim: int
    accuracy: float | None = None
    source: str = ""

    @property
    def label(self) -> str:
        acc = f" (test acc {self.accuracy:.3f})" if self.accuracy is not None else ""
        return f"{self.name}{acc}"

    @torch.no_grad()
    def __call__(self, images: torch.Tensor, batch: int = 500) -> torch.Tensor:
        dev = next(self.net.parameters()).device
        out = [self.fn(self.net, images[i:i + batch].to(dev, torch.float32)).float().cpu()
               for i in range(0, len(images), batch)]
        return torch.cat(out).double()

    def to(self, device: torch.device | str) -> FeatureExtractor:
        self.net.to(device)
        return self


def _key(dataset: str, resolution: int, channels: int) -> str:
    return f"{dataset}-{resolution}px-{channels}ch"


def cache_dir(data_path: str | Path = "data") -> Path:
    env = os.environ.get("PLAYGROUND_FEATURE_CACHE")
    return Path(env) if env else Path(data_path) / "feature_cache"


def train_classifier(train_images: torch.Tensor, train_labels: torch.Tensor, test_images: torch.Tensor,
                     test_labels: torch.Tensor, num_classes: int, *, steps: int | None = None, seed: int = 0,
                     device: str | torch.device = "cpu", log: Callable[[str], None] | None = None
                     ) -> tuple[ClassifierNet, float]:
    """Train the feature classifier (Adam, light shift augmentation); returns (net, test accuracy)."""
    g = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = ClassifierNet(train_images.shape[1], train_images.shape[-1], num_classes).to(device)
    x, y = train_images.to(device), train_labels.long().to(device)
    n = len(x)
    steps = steps or int(min(4000, max(600, 8 * n // 128)))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    pad = max(1, x.shape[-1] // 8)
    net.train()
    for step in range(steps):
        idx = torch.randint(0, n, (min(128, n),), generator=g).to(device)
        xb = x[idx]
        dx, dy = (int(v) for v in torch.randint(-pad, pad + 1, (2,), generator=g))
        xb = torch.roll(F.pad(xb, (pad, pad, pad, pad)), shifts=(dy, dx), dims=(2, 3))[..., pad:-pad, pad:-pad]
        loss = F.cross_entropy(net(xb), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if log and (step + 1) % 500 == 0:
            log(f"feature classifier step {step + 1}/{steps}: loss {loss.item():.4f}")
    net.eval()
    with torch.no_grad():
        pred = torch.cat([net(test_images[i:i + 500].to(device)).argmax(1).cpu()
                          for i in range(0, len(test_images), 500)])
    acc = float((pred == test_labels.long()).float().mean())
    return net.cpu(), acc


def save_extractor(path: Path, net: ClassifierNet, accuracy: float, key: str, extra: dict | None = None) -> str:
    """torch.save of plain state (weights + numbers + strings); returns the file's sha256."""
    import io

    from playground.runs.files import atomic_write_bytes

    buf = io.BytesIO()
    torch.save({"format": "playground.features/1", "key": key, "state_dict": net.state_dict(),
                "channels": net.channels, "resolution": net.resolution, "num_classes": net.num_classes,
                "accuracy": accuracy, **(extra or {})}, buf)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.getvalue())
    return hashlib.sha256(buf.getvalue()).hexdigest()


def load_extractor_file(path: Path) -> tuple[ClassifierNet, float, str]:
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        net = ClassifierNet(int(blob["channels"]), int(blob["resolution"]), int(blob["num_classes"]))
        net.load_state_dict(blob["state_dict"])
    except Exception as e:  # noqa: BLE001 - any unreadable/foreign file is refused the same way
        raise PlaygroundError(f"{path} is not a feature-extractor file written by this project ({type(e).__name__})"
                              ) from None
    net.eval()
    return net, float(blob["accuracy"]), str(blob.get("key", path.stem))


def classifier_extractor(dataset: str, resolution: int, channels: int, *, data_path: str | Path = "data",
                         load: Callable | None = None, device: str | torch.device = "cpu",
                         log: Callable[[str], None] | None = None) -> FeatureExtractor | None:
    """The dataset's classifier: shipped (pretrained/features), cached, or trained now and cached.

    `load(split)` returns an ImageDataset at this resolution; None when the dataset has no labels.
    """
    key = _key(dataset, resolution, channels)
    for where in (PRETRAINED_FEATURES / f"{key}.pt", cache_dir(data_path) / f"{key}.pt"):
        if where.is_file() and dataset not in ("folder", "npz"):
            net, acc, _ = load_extractor_file(where)
            return FeatureExtractor(f"classifier:{key}", net.to(device), lambda m, x: m.features(x), FEATURE_DIM,
                                    acc, str(where))
    if load is None:
        return None
    train, test = load("train"), load("test")
    if train.labels is None or not train.num_classes or test.labels is None or len(test) == 0:
        return None
    if log:
        log(f"training the feature classifier for {key} (cached for next time)")
    net, acc = train_classifier(train.images, train.labels, test.images, test.labels, int(train.num_classes),
                                device=device, log=log)
    if dataset not in ("folder", "npz"):          # a user's files may change under the same name: not cached
        save_extractor(cache_dir(data_path) / f"{key}.pt", net, acc, key)
    return FeatureExtractor(f"classifier:{key}", net.to(device), lambda m, x: m.features(x), FEATURE_DIM, acc,
                            "trained now")


def random_extractor(channels: int, resolution: int, seed: int = 0) -> FeatureExtractor:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = ClassifierNet(channels, resolution, 2)
    net.eval()
    return FeatureExtractor(f"random-cnn:seed{seed}-{resolution}px-{channels}ch", net, lambda m, x: m.features(x),
                            FEATURE_DIM, None, "untrained")


INCEPTION_FILES = ("inception_v3_google-0cc3c7bd.pth", "inception_v3_google-1a9a5a14.pth")


def inception_weights() -> Path | None:
    """A local torchvision Inception-v3 weights file, if any (never downloaded)."""
    env = os.environ.get("PLAYGROUND_INCEPTION_WEIGHTS")
    cands = [Path(env)] if env else []
    hub = Path(os.environ.get("TORCH_HOME", Path.home() / ".cache" / "torch")) / "hub" / "checkpoints"
    cands += [hub / f for f in INCEPTION_FILES]
    return next((p for p in cands if p.is_file()), None)


def inception_extractor() -> FeatureExtractor | None:
    path = inception_weights()
    if path is None:
        return None
    from torchvision.models import inception_v3

    net = inception_v3(weights=None, aux_logits=True, init_weights=False)
    try:
        net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    except Exception as e:  # noqa: BLE001
        raise PlaygroundError(f"{path} is not an Inception-v3 state dict ({type(e).__name__})") from None
    net.fc = nn.Identity()
    net.eval()
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

    def fn(m: nn.Module, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] == 1:
            x = x.repeat(1, 3, 1, 1)
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        return m((x - mean.to(x.device)) / std.to(x.device))

    return FeatureExtractor("inception-v3:torchvision", net, fn, 2048, None, str(path))


def make_extractor(kind: str, dataset: str, resolution: int, channels: int, *, data_path: str | Path = "data",
                   load: Callable | None = None, device: str | torch.device = "cpu",
                   log: Callable[[str], None] | None = None) -> FeatureExtractor:
    if kind == "inception":
        ex = inception_extractor()
        if ex is None:
            raise PlaygroundError("Inception-v3 weights are not present locally (put inception_v3_google-*.pth "
                                  "under ~/.cache/torch/hub/checkpoints or set PLAYGROUND_INCEPTION_WEIGHTS); "
                                  "use --features classifier or random")
        return ex.to(device)
    if kind in ("auto", "classifier"):
        ex = classifier_extractor(dataset, resolution, channels, data_path=data_path, load=load, device=device,
                                  log=log)
        if ex is not None:
            return ex
        if kind == "classifier":
            raise PlaygroundError(f"dataset {dataset} has no labels to train a feature classifier on; "
                                  "use --features random")
    return random_extractor(channels, resolution).to(device)


# ------------------------------------------------------------------ the scores
class PassThrough(nn.Module):
    """torchmetrics' `feature=` module for features we already extracted (one pass serves all scores)."""

    def __init__(self, dim: int):
        super().__init__()
        self.num_features = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def fid_from_features(real: torch.Tensor, fake: torch.Tensor) -> float:
    from torchmetrics.image.fid import FrechetInceptionDistance

    # sync_on_compute=False: scores are computed by one process; under torchrun the others are not scoring, and
    # torchmetrics' default would wait for them in a collective (a crash at the end of a distributed run).
    fid = FrechetInceptionDistance(feature=PassThrough(real.shape[1]), reset_real_features=False,
                                   sync_on_compute=False)
    fid.update(real.double(), real=True)
    fid.update(fake.double(), real=False)
    return max(0.0, float(fid.compute()))


def kid_from_features(real: torch.Tensor, fake: torch.Tensor, subsets: int = 50, seed: int = 0
                      ) -> tuple[float, float]:
    """KID (mean, std over subsets): the unbiased MMD² of the kernel k(x, y) = (x·y / m + 1)³, m the mean squared
    norm of the real features. Inception's features have x·y / d of about 1, which torchmetrics' default scale
    1/d assumes; the classifiers' 64-d features have norms of about 100, so with 1/d the cubic terms reached 1e6
    and KID was noise (card values of -3,000 to 280,000). Scaling by the real set's own norm makes KID
    unchanged when all features are scaled alike. Subset draws use a forked, seeded global RNG."""
    import warnings

    from torchmetrics.image.kid import KernelInceptionDistance

    size = int(min(1000, len(real), len(fake)))
    gamma = 1.0 / float(real.double().pow(2).sum(1).mean())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        kid = KernelInceptionDistance(feature=PassThrough(real.shape[1]), subsets=subsets, subset_size=size,
                                      gamma=gamma, sync_on_compute=False)
    kid.update(real.double(), real=True)
    kid.update(fake.double(), real=False)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        mean, std = kid.compute()
    return float(mean), float(std)


def _kth_nn_radius(feats: torch.Tensor, k: int, chunk: int = 2048) -> torch.Tensor:
    """Distance from each point to its k-th nearest neighbour in the same set (itself excluded)."""
    out = []
    for i in range(0, len(feats), chunk):
        d = torch.cdist(feats[i:i + chunk], feats)
        out.append(d.kthvalue(k + 1, dim=1).values)      # k+1: the point itself is at distance 0
    return torch.cat(out)


def _covered(query: torch.Tensor, support: torch.Tensor, radii: torch.Tensor, chunk: int = 2048) -> torch.Tensor:
    """For each query point: is it inside some support point's k-NN ball?"""
    out = []
    for i in range(0, len(query), chunk):
        d = torch.cdist(query[i:i + chunk], support)
        out.append((d <= radii.view(1, -1)).any(dim=1))
    return torch.cat(out)


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = 3) -> tuple[float, float]:
    """Kynkäänniemi et al. (2019): precision = share of fakes inside the real manifold (union of k-NN balls),
    recall = share of reals inside the fake manifold."""
    real, fake = real.double(), fake.double()
    k_r, k_f = min(k, len(real) - 1), min(k, len(fake) - 1)
    if k_r < 1 or k_f < 1:
        raise PlaygroundError("precision/recall need at least 2 real and 2 generated samples")
    precision = _covered(fake, real, _kth_nn_radius(real, k_r)).double().mean()
    recall = _covered(real, fake, _kth_nn_radius(fake, k_f)).double().mean()
    return float(precision), float(recall)


def scores_from_features(real: torch.Tensor, fake: torch.Tensor, label: str, accuracy: float | None = None,
                         k: int = 3) -> dict:
    t0 = time.perf_counter()
    fid = fid_from_features(real, fake)
    kid, kid_std = kid_from_features(real, fake)
    precision, recall = precision_recall(real, fake, k=k)
    return {"fid": fid, "kid": kid, "kid_std": kid_std, "precision": precision, "recall": recall,
            "fid_features": label, "feature_accuracy": accuracy, "n_real": len(real), "n_fake": len(fake),
            "eval_seconds": round(time.perf_counter() - t0, 3)}


_REFERENCE_FEATURES: OrderedDict[tuple, torch.Tensor] = OrderedDict()   # the last few reference sets' features
REFERENCE_CACHE_SIZE = 8


def _reference_key(extractor: FeatureExtractor, reference: torch.Tensor) -> tuple | None:
    """What determines a reference set's features: the extractor (its name, and its weights file, whose change
    of mtime or size makes a new extractor; an untrained one is its name and seed) and the images' bytes. None,
    never cached, for any other extractor (one trained in this process, one built by hand): its name does not
    determine its weights."""
    src = Path(extractor.source) if extractor.source not in ("", "untrained", "trained now") else None
    if src is not None and src.is_file():
        weights: object = (str(src), src.stat().st_mtime_ns, src.stat().st_size)
    elif extractor.source == "untrained":
        weights = "untrained"
    else:
        return None
    data = reference.detach().cpu().contiguous()
    digest = hashlib.blake2b(data.numpy().tobytes(), digest_size=16).hexdigest()
    return extractor.name, weights, tuple(data.shape), str(data.dtype), digest


def reference_features(extractor: FeatureExtractor, reference: torch.Tensor) -> torch.Tensor:
    """extractor(reference), remembered for the process: every run scored against the same training split (a
    script or test training several models, each run's evaluations) extracts its features once, not per run
    (4,000 mnist5k digits: 2.5 s on one CPU thread)."""
    key = _reference_key(extractor, reference)
    if key is not None and key in _REFERENCE_FEATURES:
        _REFERENCE_FEATURES.move_to_end(key)
        return _REFERENCE_FEATURES[key]
    real = extractor(reference)
    if key is not None:
        _REFERENCE_FEATURES[key] = real
        while len(_REFERENCE_FEATURES) > REFERENCE_CACHE_SIZE:
            _REFERENCE_FEATURES.popitem(last=False)
    return real


class Scorer:
    """Scores generated images against a fixed reference set; the reference features are computed once."""

    def __init__(self, extractor: FeatureExtractor, reference: torch.Tensor, max_reference: int = 10_000,
                 seed: int = 0):
        self.extractor = extractor
        if len(reference) > max_reference:
            g = torch.Generator().manual_seed(seed)
            reference = reference[torch.randperm(len(reference), generator=g)[:max_reference]]
        self.real = reference_features(extractor, reference)

    def score(self, fake_images: torch.Tensor) -> dict:
        """FID/KID/precision/recall, and the inception-style score where the features are the dataset
        classifier's (it has a trained class head; `is` None otherwise)."""
        fake = self.extractor(fake_images)
        out = scores_from_features(self.real, fake, self.extractor.label, self.extractor.accuracy)
        out.update({"is": None, "is_std": None, "is_features": None})
        if str(self.extractor.name).startswith("classifier:") and len(fake_images) >= 2:
            from playground.images.inception_score import inception_score

            out.update(inception_score(self.extractor, fake_images))
        return out
