"""MNIST, Fashion-MNIST, CIFAR-10 and CelebA through torchvision, read from local files.

Nothing is downloaded unless the caller passes download=True; a missing set raises PlaygroundError that
names the files torchvision expects and the folder it looked in.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from playground.errors import PlaygroundError

EXPECTED = {
    "mnist": ("MNIST/raw", ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                            "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]),
    "fashion_mnist": ("FashionMNIST/raw", ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                           "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]),
    "cifar10": ("cifar-10-batches-py", ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4",
                                        "data_batch_5", "test_batch", "batches.meta"]),
    "celeba": ("celeba", ["img_align_celeba/", "list_eval_partition.txt", "list_attr_celeba.txt",
                          "identity_CelebA.txt", "list_bbox_celeba.txt", "list_landmarks_align_celeba.txt"]),
}
CLASS_NAMES = {
    "mnist": [str(i) for i in range(10)],
    "fashion_mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                      "Ankle boot"],
    "cifar10": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
}
CELEBA_DEFAULT_SIZE = 10_000


def _missing(name: str, root: Path, why: str = "") -> PlaygroundError:
    folder, files = EXPECTED[name]
    where = (root / folder).resolve()
    extra = f" ({why})" if why else ""
    return PlaygroundError(
        f"{name} not found in {where}: expected {', '.join(files)}{extra}; put the files there, "
        f"pick another data root, or download them with download=True (--download) when online")


def load_torchvision(name: str, split: str, data_path: str | Path, download: bool = False,
                     size: int | None = None, seed: int = 0, resolution: int | None = None):
    """(images uint8->float tensor (N, C, H, W) in [0, 1], labels or None, class names or None)."""
    import torchvision.datasets as tvd

    root = Path(data_path)
    train = split != "test"
    try:
        if name in ("mnist", "fashion_mnist"):
            cls = tvd.MNIST if name == "mnist" else tvd.FashionMNIST
            parts = [cls(str(root), train=t, download=download) for t in ([True, False] if split == "all" else [train])]
            data = torch.cat([p.data for p in parts])[:, None]
            labels = torch.cat([p.targets for p in parts]).long()
        elif name == "cifar10":
            parts = [tvd.CIFAR10(str(root), train=t, download=download)
                     for t in ([True, False] if split == "all" else [train])]
            data = torch.from_numpy(np.concatenate([p.data for p in parts])).permute(0, 3, 1, 2)
            labels = torch.tensor(np.concatenate([np.asarray(p.targets) for p in parts]), dtype=torch.long)
        elif name == "celeba":
            return _celeba(root, split, download, size, seed, resolution or 64)
        else:  # pragma: no cover - guarded by the registry
            raise PlaygroundError(f"unknown torchvision dataset {name!r}")
    except PlaygroundError:
        raise
    except RuntimeError as e:
        raise _missing(name, root, str(e)[:80]) from None
    except (OSError, ValueError) as e:
        raise _missing(name, root, f"unreadable: {str(e)[:80]}") from None
    if size is not None and size < len(data):
        idx = torch.from_numpy(np.sort(np.random.default_rng(seed).choice(len(data), size, replace=False)))
        data, labels = data[idx], labels[idx]
    return data.float().div_(255.0), labels, CLASS_NAMES[name]


def _celeba(root: Path, split: str, download: bool, size: int | None, seed: int, res: int):
    import torchvision.datasets as tvd
    from PIL import Image

    try:
        ds = tvd.CelebA(str(root), split={"test": "test", "train": "train", "all": "all"}[split],
                        target_type=[], download=download)
    except (RuntimeError, OSError, ValueError) as e:
        raise _missing("celeba", root, str(e)[:80]) from None
    n = len(ds.filename)
    size = min(n, size or CELEBA_DEFAULT_SIZE)
    idx = np.sort(np.random.default_rng(seed).choice(n, size, replace=False)) if size < n else np.arange(n)
    folder = root / "celeba" / "img_align_celeba"
    out = np.empty((size, 3, res, res), dtype=np.uint8)
    for j, i in enumerate(idx):
        with Image.open(folder / ds.filename[i]) as im:  # 178x218: centre square crop, then res x res
            im = im.convert("RGB")
            w, h = im.size
            s = min(w, h)
            im = im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
            out[j] = np.asarray(im.resize((res, res), Image.Resampling.LANCZOS)).transpose(2, 0, 1)
    return torch.from_numpy(out).float().div_(255.0), None, None
