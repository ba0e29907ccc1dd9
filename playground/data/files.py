"""Users' own images: a folder of image files (PIL) or an .npz array; bounded, validated, never unpickled."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from playground.errors import PlaygroundError
from playground.userfiles import check_size, read_bounded

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
MAX_FOLDER_FILES = 20_000
MAX_IMAGE_BYTES = 20_000_000
MAX_IMAGE_PIXELS = 12_000_000    # a 12-megapixel photo; decoding a larger one costs hundreds of MB
MAX_NPZ_BYTES = 1_000_000_000
MAX_NPZ_VALUES = 400_000_000


def _npz_values(z, key: str) -> int:
    """How many values array `key` of an open .npz declares in its .npy header (nothing is decompressed: a small
    file can declare billions)."""
    with z.zip.open(key + ".npy") as f:
        version = np.lib.format.read_magic(f)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, _ = read(f)
    return int(np.prod(shape, dtype=np.int64)) if shape else 1


def open_image(source, resolution: int, channels: int = 3, max_bytes: int = MAX_IMAGE_BYTES) -> np.ndarray:
    """One image file (path, bytes or file object) as float32 (C, R, R) in [0, 1]: shorter side resized to R,
    then centre-cropped. Raises PlaygroundError for anything PIL cannot read or that is too large."""
    import io

    from PIL import Image, UnidentifiedImageError

    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(read_bounded(source, max_bytes, "the image"))
    try:
        with Image.open(source) as im:
            w, h = im.size
            if w * h > MAX_IMAGE_PIXELS:
                raise PlaygroundError(f"image is {w}x{h} pixels; the limit is {MAX_IMAGE_PIXELS} pixels")
            im.draft("RGB", (resolution * 2, resolution * 2))  # fast JPEG downscale where possible
            im = im.convert("L" if channels == 1 else "RGB")
            w, h = im.size
            k = resolution / min(w, h)
            nw, nh = max(resolution, round(w * k)), max(resolution, round(h * k))
            im = im.resize((nw, nh), Image.Resampling.LANCZOS if k < 1 else Image.Resampling.BILINEAR)
            left, top = (nw - resolution) // 2, (nh - resolution) // 2
            im = im.crop((left, top, left + resolution, top + resolution))
            arr = np.asarray(im, dtype=np.float32) / 255.0
    except PlaygroundError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
        raise PlaygroundError(f"not a readable image ({type(e).__name__}: {str(e)[:120]})") from None
    if arr.ndim == 2:
        arr = arr[None]
    else:
        arr = arr.transpose(2, 0, 1)
    return np.ascontiguousarray(arr)


def load_folder(root: str | Path, resolution: int, channels: int = 3, max_files: int = MAX_FOLDER_FILES,
                max_bytes: int = MAX_IMAGE_BYTES):
    """Every image under `root` (recursively). Images in sub-folders get the sub-folder's name as a class.

    Returns (images (N, C, R, R) tensor, labels tensor or None, class names or None, skipped count, files).
    """
    root = Path(root)
    if not root.is_dir():
        raise PlaygroundError(f"no such folder: {root} (expected a folder of {'/'.join(IMAGE_EXTENSIONS)} files)")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        raise PlaygroundError(f"no image files ({', '.join(IMAGE_EXTENSIONS)}) found in {root}")
    if len(files) > max_files:
        raise PlaygroundError(f"{root} holds {len(files)} images; the limit is {max_files} (use a smaller folder)")
    arrays, classes, skipped, kept = [], [], 0, []
    for p in files:
        try:
            check_size(p.stat().st_size, max_bytes, str(p))
            arrays.append(open_image(p, resolution, channels))
        except PlaygroundError:
            skipped += 1
            continue
        rel = p.relative_to(root)
        classes.append(rel.parts[0] if len(rel.parts) > 1 else "")
        kept.append(str(rel))
    if not arrays:
        raise PlaygroundError(f"none of the {len(files)} image files in {root} could be read")
    images = torch.from_numpy(np.stack(arrays))
    labels, names = None, None
    distinct = sorted(set(classes))
    if len(distinct) > 1 or (distinct and distinct[0] != ""):
        names = distinct
        index = {c: i for i, c in enumerate(names)}
        labels = torch.tensor([index[c] for c in classes], dtype=torch.long)
    return images, labels, names, skipped, kept


def load_npz(path: str | Path, max_bytes: int = MAX_NPZ_BYTES):
    """An .npz with `images` (N,H,W), (N,H,W,C) or (N,C,H,W) (uint8 0..255, bool, or float in [0, 1]) and
    optional integer `labels` (N,). Returns (images tensor (N, C, H, W) in [0, 1], labels or None)."""
    path = Path(path)
    if not path.is_file():
        raise PlaygroundError(f"no such file: {path} (expected an .npz with an 'images' array)")
    check_size(path.stat().st_size, max_bytes, str(path))
    try:
        with np.load(path, allow_pickle=False) as z:
            keys = list(z.keys())
            if "images" not in keys:
                raise PlaygroundError(f"{path.name} has no 'images' array (found: {', '.join(keys) or 'nothing'})")
            declared = _npz_values(z, "images")         # from its header, before anything is decompressed
            if declared > MAX_NPZ_VALUES:
                raise PlaygroundError(f"'images' holds {declared} values; the limit is {MAX_NPZ_VALUES}")
            images = z["images"]
            labels = z["labels"] if "labels" in keys else None
    except PlaygroundError:
        raise
    except (ValueError, OSError, EOFError) as e:  # not a zip, pickled objects, truncated
        raise PlaygroundError(f"{path.name} is not a readable .npz without pickled objects ({str(e)[:120]})") from None
    if images.size > MAX_NPZ_VALUES:
        raise PlaygroundError(f"'images' holds {images.size} values; the limit is {MAX_NPZ_VALUES}")
    if images.ndim == 3:
        images = images[:, None]
    elif images.ndim == 4:
        if images.shape[-1] in (1, 3, 4) and images.shape[1] not in (1, 3, 4):
            images = images.transpose(0, 3, 1, 2)
        elif images.shape[1] in (1, 3, 4):
            pass
        elif images.shape[-1] in (1, 3, 4):
            images = images.transpose(0, 3, 1, 2)
        else:
            raise PlaygroundError(f"'images' has shape {images.shape}: expected (N,H,W), (N,H,W,C) or (N,C,H,W) "
                                  "with C = 1, 3 or 4")
    else:
        raise PlaygroundError(f"'images' has shape {images.shape}: expected (N,H,W), (N,H,W,C) or (N,C,H,W)")
    if images.shape[0] == 0:
        raise PlaygroundError("'images' is empty")
    if min(images.shape[2:]) < 2:
        raise PlaygroundError(f"'images' has shape {images.shape}: images must be at least 2x2 pixels")
    if images.shape[1] == 4:  # drop alpha
        images = images[:, :3]
    if images.dtype == np.uint8:
        arr = images.astype(np.float32) / 255.0
    elif images.dtype == np.bool_:
        arr = images.astype(np.float32)
    elif np.issubdtype(images.dtype, np.floating) or np.issubdtype(images.dtype, np.integer):
        arr = images.astype(np.float32)
        if not np.isfinite(arr).all():
            raise PlaygroundError("'images' contains NaN or infinite values")
        lo, hi = float(arr.min()), float(arr.max())
        if np.issubdtype(images.dtype, np.integer):
            if lo < 0 or hi > 255:
                raise PlaygroundError(f"integer 'images' must lie in 0..255, found {lo:g}..{hi:g}")
            arr = arr / 255.0
        elif lo >= -1.0 and hi <= 1.0 and lo < 0:
            arr = (arr + 1.0) / 2.0  # [-1, 1] convention
        elif lo < 0 or hi > 1.0:
            raise PlaygroundError(f"float 'images' must lie in [0, 1] (or [-1, 1]), found {lo:g}..{hi:g}")
    else:
        raise PlaygroundError(f"'images' has dtype {images.dtype}; expected uint8, bool, integer or float")
    out_labels = None
    if labels is not None:
        labels = np.asarray(labels)
        if labels.ndim != 1 or len(labels) != len(arr):
            raise PlaygroundError(f"'labels' has shape {labels.shape}; expected ({len(arr)},)")
        if not (np.issubdtype(labels.dtype, np.integer) or np.issubdtype(labels.dtype, np.bool_)):
            raise PlaygroundError(f"'labels' must be integers, got dtype {labels.dtype}")
        if labels.min() < 0:
            raise PlaygroundError("'labels' must be non-negative class indices")
        if labels.max() >= 10_000:
            raise PlaygroundError(f"'labels' go up to {labels.max()}; at most 10000 classes")
        out_labels = torch.from_numpy(labels.astype(np.int64))
    return torch.from_numpy(np.ascontiguousarray(arr)), out_labels
