"""A VAE's decoder as a short list of simple operations with float32 weights, and a numpy interpreter for it.

The VAE lab's page sends this program to the browser, which runs the same operations in JavaScript
(app/components/vae_decoder/interpreter.js), so a latent slider redraws the decoded image without a round trip
to the server; with `?decode=server` the page runs it here. `run_program` is the reference: the tests hold it
against `VAE.decode`, and the JavaScript interpreter against it on the same programs.

Operations, applied to a batch of activations `h` (N, ...) that starts as [z, one-hot(y)]:
  linear(w, b)             h @ w.T + b              (w: out x in)
  silu                     h * sigmoid(h)
  reshape(shape)           (N, C, H, W)
  upsample(size)           nearest-neighbour to size x size, PyTorch's index rule (floor(i * in/out), float32)
  conv3x3(w, b)            stride 1, zero padding 1 (w: out x in x 3 x 3)
  channels(n)              keep the first n channels (a Gaussian decoder's means; the rest are log-variances)
  sigmoid
"""

from __future__ import annotations

import base64

import numpy as np
from torch import nn

from playground.errors import PlaygroundError
from playground.vae.model import VAE, ConvDecoder, MLPDecoder


def _b64(t) -> str:
    return base64.b64encode(t.detach().cpu().float().numpy().astype("<f4").tobytes()).decode()


def _unb64(s: str, shape) -> np.ndarray:
    return np.frombuffer(base64.b64decode(s), dtype="<f4").reshape(shape)


def _sequential(seq: nn.Sequential, ops: list, weights: dict) -> None:
    for m in seq:
        if isinstance(m, nn.Linear):
            name = f"w{len(weights)}"
            weights[name] = _b64(m.weight)
            weights[name + "b"] = _b64(m.bias)
            ops.append({"op": "linear", "w": name, "out": m.out_features, "in": m.in_features})
        elif isinstance(m, nn.SiLU):
            ops.append({"op": "silu"})
        else:
            raise PlaygroundError(f"cannot export a decoder layer of type {type(m).__name__}")


def _conv(conv: nn.Conv2d, ops: list, weights: dict) -> None:
    if conv.kernel_size != (3, 3) or conv.stride != (1, 1) or conv.padding != (1, 1) or conv.groups != 1:
        raise PlaygroundError("only 3x3, stride-1, padding-1 convolutions can be exported")
    name = f"w{len(weights)}"
    weights[name] = _b64(conv.weight)
    weights[name + "b"] = _b64(conv.bias)
    ops.append({"op": "conv3x3", "w": name, "out": conv.out_channels, "in": conv.in_channels})


def decoder_program(model: VAE) -> dict:
    """The decoder mean of `model` as a JSON-able program (see the module docstring)."""
    c, h, w = model.shape
    dec, ops, weights = model.decoder, [], {}
    k = 1 if model.cfg.decoder == "bernoulli" else 2
    if isinstance(dec, MLPDecoder):
        _sequential(dec.net, ops, weights)
        ops.append({"op": "reshape", "shape": [k * c, h, w]})
    elif isinstance(dec, ConvDecoder):
        _sequential(dec.fc, ops, weights)
        ops.append({"op": "reshape", "shape": [dec.chans[0], dec.sizes[0], dec.sizes[0]]})
        for conv, s in zip(dec.convs, dec.sizes[1:]):
            ops.append({"op": "upsample", "size": int(s)})
            _conv(conv, ops, weights)
            ops.append({"op": "silu"})
        _conv(dec.out, ops, weights)
    else:
        raise PlaygroundError(f"cannot export a decoder of type {type(dec).__name__}")
    if k == 2:
        ops.append({"op": "channels", "n": c})
    ops.append({"op": "sigmoid"})
    return {"latent": model.latent, "classes": model.num_classes, "shape": [c, h, w], "ops": ops,
            "weights": weights}


def _upsample_index(out: int, inp: int) -> np.ndarray:
    scale = np.float32(inp / out)
    return np.minimum(np.floor(np.arange(out, dtype=np.float32) * scale).astype(np.int64), inp - 1)


def run_program(program: dict, z, y=None) -> np.ndarray:
    """Decoded mean images (N, C, H, W) in [0, 1] for codes z (N, D) or (D,), in float32 numpy."""
    z = np.asarray(z, dtype=np.float32).reshape(-1, program["latent"])
    h = z
    if program["classes"]:
        onehot = np.zeros((len(z), program["classes"]), dtype=np.float32)
        onehot[np.arange(len(z)), np.broadcast_to(np.asarray(0 if y is None else y).reshape(-1), len(z))] = 1
        h = np.concatenate([z, onehot], 1)
    wts = program["weights"]
    for op in program["ops"]:
        kind = op["op"]
        if kind == "linear":
            w = _unb64(wts[op["w"]], (op["out"], op["in"]))
            h = h @ w.T + _unb64(wts[op["w"] + "b"], (op["out"],))
        elif kind == "silu":
            h = h / (1 + np.exp(-h))
        elif kind == "sigmoid":
            h = 1 / (1 + np.exp(-h))
        elif kind == "reshape":
            h = h.reshape(len(h), *op["shape"])
        elif kind == "upsample":
            s = op["size"]
            h = h[:, :, _upsample_index(s, h.shape[2])][:, :, :, _upsample_index(s, h.shape[3])]
        elif kind == "conv3x3":
            w = _unb64(wts[op["w"]], (op["out"], op["in"], 3, 3))
            pad = np.pad(h, ((0, 0), (0, 0), (1, 1), (1, 1)))
            hh, ww = h.shape[2], h.shape[3]
            out = np.zeros((len(h), op["out"], hh, ww), dtype=np.float32)
            for dy in range(3):
                for dx in range(3):
                    out += np.einsum("oi,nihw->nohw", w[:, :, dy, dx], pad[:, :, dy:dy + hh, dx:dx + ww])
            h = out + _unb64(wts[op["w"] + "b"], (op["out"],))[None, :, None, None]
        elif kind == "channels":
            h = h[:, : op["n"]]
        else:
            raise PlaygroundError(f"unknown decoder operation {kind!r}")
    return h.astype(np.float32)
