"""User data: image folders, .npz arrays and torchvision sets, with the errors a user can cause."""

import numpy as np
import pytest
import torch
from PIL import Image

from playground.data import load_dataset
from playground.errors import PlaygroundError


def _png(path, size=(20, 12), colour=(255, 0, 0)):
    Image.new("RGB", size, colour).save(path)


def test_folder_resizes_crops_labels_and_skips_bad_files(tmp_path):
    for cls, colour in (("cats", (255, 0, 0)), ("dogs", (0, 0, 255))):
        (tmp_path / cls).mkdir()
        for i in range(5):
            _png(tmp_path / cls / f"{i}.png", (20 + i, 12), colour)
    (tmp_path / "cats" / "broken.png").write_bytes(b"not an image at all")
    (tmp_path / "notes.txt").write_text("ignored")
    ds = load_dataset("folder", split="all", path=tmp_path, resolution=8)
    assert ds.images.shape == (10, 3, 8, 8)
    assert ds.metadata["skipped"] == 1
    assert ds.class_names == ["cats", "dogs"] and ds.num_classes == 2
    red = ds.images[ds.labels == 0]
    assert torch.allclose(red[:, 0], torch.ones_like(red[:, 0]), atol=1e-2)
    assert float(red[:, 2].max()) < 1e-2
    tr, te = load_dataset("folder", path=tmp_path, resolution=8), load_dataset("folder", "test", path=tmp_path, resolution=8)
    assert len(tr) + len(te) == 10 and len(te) == 1
    grey = load_dataset("folder", split="all", path=tmp_path, resolution=8, channels=1)
    assert grey.images.shape == (10, 1, 8, 8)


def test_folder_errors(tmp_path):
    with pytest.raises(PlaygroundError, match="no such folder"):
        load_dataset("folder", path=tmp_path / "missing")
    with pytest.raises(PlaygroundError, match="no image files"):
        load_dataset("folder", path=tmp_path)
    (tmp_path / "a.png").write_bytes(b"garbage")
    with pytest.raises(PlaygroundError, match="could be read"):
        load_dataset("folder", path=tmp_path)


@pytest.mark.parametrize("layout", ["nhw", "nhwc", "nchw"])
def test_npz_layouts(tmp_path, layout):
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, size=(20, 3, 6, 6), dtype=np.uint8)
    arr = {"nhw": base[:, 0], "nhwc": base.transpose(0, 2, 3, 1), "nchw": base}[layout]
    f = tmp_path / "x.npz"
    np.savez(f, images=arr, labels=np.arange(20) % 4)
    ds = load_dataset("npz", split="all", path=f)
    c = 1 if layout == "nhw" else 3
    assert ds.images.shape == (20, c, 6, 6)
    assert torch.allclose(ds.images * 255, torch.from_numpy(base[:, :c].astype(np.float32)))
    assert ds.num_classes == 4 and ds.labels.tolist() == (np.arange(20) % 4).tolist()
    assert load_dataset("npz", path=f, resolution=4).images.shape[-1] == 4


def test_npz_float_ranges(tmp_path):
    f = tmp_path / "f.npz"
    np.savez(f, images=np.linspace(-1, 1, 2 * 16).reshape(2, 4, 4).astype(np.float32))
    ds = load_dataset("npz", split="all", path=f)
    assert float(ds.images.min()) == 0.0 and float(ds.images.max()) == 1.0


@pytest.mark.parametrize("kwargs,match", [
    ({"pics": np.zeros((2, 4, 4))}, "no 'images'"),
    ({"images": np.zeros((2, 4))}, "shape"),
    ({"images": np.zeros((2, 5, 5, 5))}, "shape"),
    ({"images": np.full((2, 4, 4), 3.0)}, r"\[0, 1\]"),
    ({"images": np.full((2, 4, 4), np.nan)}, "NaN"),
    ({"images": np.zeros((2, 4, 4)), "labels": np.zeros(3, dtype=int)}, "labels"),
    ({"images": np.zeros((2, 4, 4)), "labels": np.array([0.5, 1.0])}, "integers"),
    ({"images": np.array(["a", "b"])}, "shape|dtype"),
])
def test_npz_errors(tmp_path, kwargs, match):
    f = tmp_path / "bad.npz"
    np.savez(f, **kwargs)
    with pytest.raises(PlaygroundError, match=match):
        load_dataset("npz", path=f)


def test_npz_refuses_pickles_and_junk(tmp_path):
    f = tmp_path / "obj.npz"
    np.savez(f, images=np.array([{"a": 1}], dtype=object))
    with pytest.raises(PlaygroundError, match="pickle"):
        load_dataset("npz", path=f)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"PK not really a zip")
    with pytest.raises(PlaygroundError):
        load_dataset("npz", path=junk)
    with pytest.raises(PlaygroundError, match="no such file"):
        load_dataset("npz", path=tmp_path / "none.npz")


@pytest.mark.parametrize("name,expected", [
    ("mnist", "train-images-idx3-ubyte"), ("fashion_mnist", "FashionMNIST"),
    ("cifar10", "data_batch_1"), ("celeba", "list_eval_partition.txt")])
def test_torchvision_missing_names_files_and_folder(tmp_path, name, expected):
    with pytest.raises(PlaygroundError, match=expected) as e:
        load_dataset(name, data_path=tmp_path)
    assert str(tmp_path) in str(e.value)
    assert "\n" not in str(e.value)


def test_mnist_from_local_files(tmp_path):
    """Standard idx files written by hand are read without any download."""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 12), ("t10k", 5)):
        imgs = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labs = rng.integers(0, 10, size=n, dtype=np.uint8)
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(
            np.array([0x803, n, 28, 28], dtype=">i4").tobytes() + imgs.tobytes())
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(np.array([0x801, n], dtype=">i4").tobytes() + labs.tobytes())
        if prefix == "t10k":
            test_imgs, test_labs = imgs, labs
    ds = load_dataset("mnist", "test", data_path=tmp_path)
    assert ds.images.shape == (5, 1, 28, 28) and ds.num_classes == 10
    assert torch.allclose(ds.images[:, 0] * 255, torch.from_numpy(test_imgs.astype(np.float32)))
    assert ds.labels.tolist() == test_labs.tolist()
    assert load_dataset("mnist", data_path=tmp_path, resolution=14, size=4).images.shape == (4, 1, 14, 14)
