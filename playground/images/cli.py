"""`python -m playground images train|sample|list|status|stop|resume|delete|eval|baseline|features|presets`.

    python -m playground images train --dataset digits --model dcgan --steps 2000 --out runs/demo --seed 0 --json
    python -m playground images sample --run runs/demo --n 64 --seed 0 --out grid.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playground.cli import SEED, number_in, output_flags
from playground.errors import PlaygroundError

# torch is imported inside the commands: `python -m playground --help` stays fast.


def _emit(result: dict, args: argparse.Namespace) -> None:
    from playground.cli import emit

    emit(result, getattr(args, "json", False))


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    """The one parser of a training: `images train` and `python -m playground.images.train` (and torchrun)."""
    from playground.configs import add_arguments
    from playground.images.config import DEFAULT_PRESET, PRESETS, ImageRunConfig

    add_arguments(p, ImageRunConfig)
    p.add_argument("--out", help="run directory to create (default: $PLAYGROUND_RUNS or runs/, then "
                                 "<dataset>-<model>-<time>)")
    p.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its latest checkpoint (from step 0 "
                                                   "if it has none); flags equal to its config are accepted")
    p.add_argument("--preset", choices=sorted(PRESETS), help="start from a known-good preset; flags override it "
                                                             f"(without one: the defaults, which are {DEFAULT_PRESET}, "
                                                             "what the Train page's form opens on)")
    p.add_argument("--json", action="store_true", help="print one JSON object at the end")


def train_command(args: argparse.Namespace) -> int:
    import os

    from playground.images.train import run_from_args

    result = run_from_args(args)
    if int(os.environ.get("RANK", "0")) == 0:      # under torchrun only rank 0 reports
        _emit(result, args)
    return 0 if result["state"] in ("completed", "stopped") else 1


def sample_command(args: argparse.Namespace) -> int:
    import torch

    from playground.images import sampling

    torch.set_num_threads(max(1, args.threads))
    gen = sampling.load_model(args.run, args.checkpoint, use_ema=not args.no_ema)
    n = args.n if args.n is not None else (sampling.INTERPOLATION_STEPS if args.interpolate else 64)
    if args.interpolate:
        images = sampling.interpolation(gen, args.seed, args.seed_b if args.seed_b is not None else args.seed + 1,
                                        n, args.interpolate, args.truncation)
        nrow = n
    else:
        images = sampling.grid(gen, n, args.seed, args.truncation, args.label, args.steps)
        nrow = None
    scale = args.scale or sampling.auto_scale(gen.resolution)
    data = sampling.grid_png(images, nrow=nrow, scale=scale)
    out = Path(args.out)
    if out.parent and not out.parent.exists():
        raise PlaygroundError(f"folder {out.parent} does not exist")
    out.write_bytes(data)
    _emit({"out": str(out), "n": len(images), "run": args.run, "checkpoint": args.checkpoint,
           "step": gen.step, "ema": gen.ema, "seed": args.seed, "truncation": args.truncation,
           "interpolation": args.interpolate, "label": args.label, "steps": args.steps,
           "image_size": gen.resolution, "png_bytes": len(data)}, args)
    return 0


def list_command(args: argparse.Namespace) -> int:
    from playground.runs.root import runs_root
    from playground.runs.rundir import list_runs

    root = args.runs_dir or str(runs_root())
    runs = [{k: v for k, v in r.items() if k != "config"} for r in list_runs(root, kind="images")]
    if args.json:
        _emit({"runs_dir": root, "runs": runs}, args)
    else:
        if not runs:
            print(f"no runs in {root}")
        for r in runs:
            fid = f"  FID {r['fid']:.2f}" if isinstance(r.get("fid"), (int, float)) else ""
            print(f"{r['name']:<40} {r['state']:<10} {r['step']}/{r['total_steps']}  {r['model']} on "
                  f"{r['dataset']}{fid}")
    return 0


def status_command(args: argparse.Namespace) -> int:
    from playground.runs.rundir import RunDir

    run = RunDir.open(args.run)
    st = run.effective_status()
    _emit({"run": str(run.path), **st, "checkpoints": run.checkpoints(),
           "samples": len(run.samples()), "metrics_lines": len(run.read_metrics())}, args)
    return 0


def stop_command(args: argparse.Namespace) -> int:
    from playground.runs import launcher

    launcher.stop(args.run)
    _emit({"run": args.run, "stop_requested": True}, args)
    return 0


def resume_command(args: argparse.Namespace) -> int:
    from playground.runs import launcher

    steps = launcher.resume_length(args.run, args.steps)        # a completed run: twice its steps, as the page
    if args.background:
        launcher.resume(args.run, steps=steps)
        _emit({"run": args.run, "state": "queued", "background": True}, args)
        return 0
    from playground.images.train import config_for_resume, train

    cfg = config_for_resume(args.run, {"steps": steps} if steps else None)
    result = train(cfg, resume=args.run, quiet=args.json)
    _emit(result, args)
    return 0 if result["state"] in ("completed", "stopped") else 1


def delete_command(args: argparse.Namespace) -> int:
    from playground.runs import launcher

    launcher.delete(args.run)
    _emit({"run": args.run, "deleted": True}, args)
    return 0


def eval_command(args: argparse.Namespace) -> int:
    import torch

    from playground.images import sampling
    from playground.images.metrics import Scorer, make_extractor
    from playground.images.training_data import as_trained, load_training_data

    torch.set_num_threads(max(1, args.threads))
    gen = sampling.load_model(args.run, args.checkpoint)
    cfg = gen.cfg
    res = gen.resolution
    ref = load_training_data(cfg, args.split, res)
    reference = as_trained(cfg, ref.images)                    # what the model was trained to draw

    def load(split: str):
        return load_training_data(cfg, split, res)

    ex = make_extractor(args.features or cfg.features, cfg.dataset, res, int(ref.images.shape[1]),
                        data_path=cfg.data_path, load=load)
    scores = Scorer(ex, reference).score(gen.sample(args.n, args.seed))
    if args.per_class:
        from playground.images.class_scores import per_class_scores

        if ref.labels is None:
            raise PlaygroundError(f"per-class scores need labels; {cfg.dataset} has none")
        scores.update(per_class_scores(gen, reference, ref.labels, ex, n=args.per_class, seed=args.seed))
    _emit({"run": args.run, "checkpoint": args.checkpoint, "step": gen.step, "reference": f"{cfg.dataset}:{args.split}",
           **scores}, args)
    return 0


VIEWS = ("class-grid", "class-interp", "trajectory", "completion", "pixels")


def view_command(args: argparse.Namespace) -> int:
    """The Sample page's model views as a PNG: a conditional GAN's class x noise grid or class interpolation, a
    diffusion / flow-matching sample's denoising trajectory, a PixelCNN's completions of a test image; and its
    pixel-by-pixel sampler as an animated GIF."""
    import torch

    from playground.images import model_views as V
    from playground.images import sampling

    torch.set_num_threads(max(1, args.threads))
    gen = sampling.load_model(args.run, args.checkpoint, use_ema=not args.no_ema)
    info: dict = {"run": args.run, "view": args.view, "seed": args.seed}
    out = Path(args.out)
    if out.parent and not out.parent.exists():
        raise PlaygroundError(f"folder {out.parent} does not exist")
    if args.view == "pixels":
        from playground.history import encode_gif

        if out.suffix.lower() != ".gif":
            raise PlaygroundError(f"--view pixels writes an animated GIF: give --out a .gif name, not {out.name}")
        every = args.every or V.pixels_per_frame(gen.resolution)
        frames = V.pixel_animation(gen, args.n or V.PIXEL_IMAGES, args.seed, every, args.label,
                                   args.scale or max(1, V.PIXEL_TILE_PX // gen.resolution))    # the page's size
        data = encode_gif(frames, fps=V.PIXEL_FPS)
        out.write_bytes(data)
        _emit({**info, "out": str(out), "frames": len(frames), "pixels_per_frame": every,
               "images": args.n or V.PIXEL_IMAGES, "gif_bytes": len(data)}, args)
        return 0
    if args.view == "class-grid":
        images, nrow = V.class_noise_grid(gen, args.columns, args.seed, args.truncation), args.columns
    elif args.view == "class-interp":
        images = V.class_interpolation(gen, args.from_class, args.to_class, args.steps or V.INTERP_STEPS, args.seed,
                                       args.rows)
        nrow = args.steps or V.INTERP_STEPS
    elif args.view == "trajectory":
        images, picks = V.denoising_strip(gen, args.seed, args.steps, args.method, args.states, args.label)
        nrow, info["states_after_steps"] = len(picks), picks
    else:
        tests, labels = V.held_out_images(gen, args.index + 1)
        if args.index >= len(tests):
            raise PlaygroundError(f"--index {args.index} is outside the {len(tests)} test images")
        label = args.label if args.label is not None else (None if labels is None else int(labels[args.index]))
        known = V.hidden_region(gen.resolution, args.region, args.first_row)
        n = args.n or V.COMPLETIONS
        images = V.completion(gen, tests[args.index], known, n, args.seed, label if gen.num_classes else None)
        nrow, info["label"] = n, label
    data = sampling.grid_png(images, nrow=nrow, scale=args.scale or sampling.auto_scale(gen.resolution))
    out.write_bytes(data)
    _emit({**info, "out": str(out), "images": len(images), "png_bytes": len(data)}, args)
    return 0


def probe_command(args: argparse.Namespace) -> int:
    """What the scores see: FID and IS of the test images disturbed at each strength (the probe page's curves)."""
    import torch

    from playground.images import probe
    from playground.images.disturb import DISTURBANCES

    from playground.configs import from_args

    torch.set_num_threads(max(1, args.threads))
    cfg = from_args(probe.ProbeConfig, args)
    if not cfg.kinds:
        raise PlaygroundError(f"choose at least one disturbance of {', '.join(DISTURBANCES)}")
    strengths = probe.parse_strengths(cfg.strengths)
    data = probe.probe_data(cfg.dataset)
    curves = [probe.curve(data, k, strengths, cfg.n_test, cfg.seed) for k in cfg.kinds]
    _emit({"dataset": cfg.dataset, "test_images": min(cfg.n_test, len(data[1])), "curves": curves}, args)
    return 0


def memorise_command(args: argparse.Namespace) -> int:
    """The memorisation check: each sample's nearest training images and the distance summaries."""
    import torch

    from playground.images import probe, sampling

    torch.set_num_threads(max(1, args.threads))
    gen = sampling.load_model(args.run)
    _, _, mem = probe.memorisation(gen, probe.probe_data(gen.cfg.dataset, gen.resolution, gen.channels),
                                   args.n, args.seed, args.k)
    _emit({"run": args.run, "samples": args.n, "seed": args.seed,
           **{space: {"summary": r["summary"], "neighbours": r["neighbours"].tolist()} for space, r in mem.items()}},
          args)
    return 0


def baseline_command(args: argparse.Namespace) -> int:
    """The dataset's test split scored against its train split: what real images get, in the same features."""
    import torch

    from playground.images.config import ImageRunConfig, resolve_resolution
    from playground.images.metrics import Scorer, make_extractor
    from playground.images.training_data import load_training_data

    torch.set_num_threads(max(1, args.threads))
    cfg = ImageRunConfig(dataset=args.dataset, data_path=args.data_path, resolution=args.resolution)
    cfg.validate()
    native = load_training_data(cfg)
    res = resolve_resolution(args.resolution, native.resolution)

    def load(split: str):
        return load_training_data(cfg, split, res)

    train, test = load("train"), load("test")
    ex = make_extractor(args.features, args.dataset, res, int(train.images.shape[1]), data_path=args.data_path,
                        load=load)
    scores = Scorer(ex, train.images).score(test.images)
    _emit({"dataset": args.dataset, "resolution": res, "reference": f"{args.dataset}:train",
           "compared": f"{args.dataset}:test", **scores}, args)
    return 0


def features_command(args: argparse.Namespace) -> int:
    """Train (or retrain) a dataset's feature classifier and write it with a card (make pretrained)."""
    import time

    import torch

    from playground.cards import write_card
    from playground.data import load_dataset
    from playground.images.metrics import _key, save_extractor, train_classifier

    torch.set_num_threads(max(1, args.threads))
    train = load_dataset(args.dataset, "train", resolution=args.resolution, data_path=args.data_path)
    test = load_dataset(args.dataset, "test", resolution=args.resolution, data_path=args.data_path)
    if train.labels is None or not train.num_classes:
        raise PlaygroundError(f"dataset {args.dataset} has no labels to train a classifier on")
    t0 = time.perf_counter()
    net, acc = train_classifier(train.images, train.labels, test.images, test.labels, int(train.num_classes),
                                steps=args.steps, seed=args.seed)
    key = _key(args.dataset, train.resolution, train.channels)
    out = Path(args.out) / f"{key}.pt"
    sha = save_extractor(out, net, acc, key)
    card = {"name": key, "kind": "feature classifier for FID/KID/precision/recall", "file": out.name,
            "sha256": sha, "test_accuracy": acc, "train_images": len(train), "test_images": len(test),
            "command": f"python -m playground images features --dataset {args.dataset} --out {args.out}"
                       + (f" --resolution {args.resolution}" if args.resolution else ""),
            "seconds": round(time.perf_counter() - t0, 2), "torch": str(torch.__version__),
            "date": time.strftime("%Y-%m-%d")}
    write_card(Path(args.out), key, card)
    _emit(card, args)
    return 0


def presets_command(args: argparse.Namespace) -> int:
    from playground.images.config import PRESETS

    _emit({k: p.describe() for k, p in PRESETS.items()}, args)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    images = sub.add_parser("images", help="image models (GANs, cGAN, PixelCNN, diffusion, flow matching, VAE): "
                                           "train runs, sample, score")
    cmds = images.add_subparsers(dest="command", required=True,
                                 metavar="<train|sample|list|status|stop|resume|delete|eval|baseline|features|presets|gif>")

    tr = cmds.add_parser("train", help="train in the foreground; prints a final summary")
    add_train_arguments(tr)
    tr.set_defaults(func=train_command)

    sa = cmds.add_parser("sample", help="write a PNG grid (or an interpolation strip) from a run")
    sa.add_argument("--run", required=True, help="run directory, or a shipped model's name (digits-dcgan)")
    sa.add_argument("--checkpoint", default="latest", help="latest, best or a checkpoint file (default: latest)")
    sa.add_argument("--n", type=number_in(1, 1024), default=None, help="images in the grid (default 64) / steps of the "
                                                        "interpolation (default 10, as on the Sample page)")
    sa.add_argument("--seed", type=SEED, default=0)
    sa.add_argument("--truncation", type=number_in(1e-3, 100.0, float), default=None,
                    help="truncation threshold (e.g. 1.0); off by default")
    sa.add_argument("--interpolate", choices=["linear", "spherical"], help="interpolate from --seed to --seed-b")
    sa.add_argument("--seed-b", type=SEED, default=None)
    sa.add_argument("--label", type=int, default=None, help="class to draw (conditional models; default: every "
                                                            "class equally often)")
    sa.add_argument("--steps", type=int, default=None, help="sampling steps (diffusion, flow matching; default: "
                                                            "the run's sample_steps)")
    sa.add_argument("--no-ema", action="store_true", help="use the raw generator instead of its EMA")
    sa.add_argument("--scale", type=number_in(0, 32), default=0,
                    help="pixel upscaling of the PNG, 1 to 32 (default 0: automatic)")
    sa.add_argument("--threads", type=int, default=1)
    sa.add_argument("--out", required=True, help="PNG file to write")
    sa.add_argument("--json", action="store_true")
    sa.set_defaults(func=sample_command)

    ls = cmds.add_parser("list", help="list the runs under a folder")
    ls.add_argument("--runs-dir", default=None, help="folder of runs (default: $PLAYGROUND_RUNS or runs/)")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=list_command)

    for name, fn, text in (("status", status_command, "show a run's status"),
                           ("stop", stop_command, "ask a running run to stop gracefully"),
                           ("delete", delete_command, "delete a run directory (not while it runs)")):
        c = cmds.add_parser(name, help=text)
        c.add_argument("--run", required=True)
        c.add_argument("--json", action="store_true")
        c.set_defaults(func=fn)

    rs = cmds.add_parser("resume", help="continue a run from its latest checkpoint (from step 0 if it has none)")
    rs.add_argument("--run", required=True)
    rs.add_argument("--steps", type=int, default=None, help="new total number of steps (train longer; default: the "
                                                            "run's own, or twice it for a completed run, as the "
                                                            "Train page's Resume)")
    rs.add_argument("--background", action="store_true", help="start it as a background process and return")
    rs.add_argument("--json", action="store_true")
    rs.set_defaults(func=resume_command)

    from playground.images import model_views as V
    from playground.images import probe

    vw = cmds.add_parser("view", help="the Sample page's model views as a PNG (the page's defaults): class-grid, "
                                      "class-interp (conditional GAN), trajectory (diffusion, flow matching), "
                                      "completion (PixelCNN); pixels (PixelCNN) as an animated GIF")
    vw.add_argument("--run", required=True, help="run directory, or a shipped model's name")
    vw.add_argument("--view", required=True, choices=VIEWS)
    vw.add_argument("--checkpoint", default="latest")
    vw.add_argument("--no-ema", action="store_true", help="the raw weights instead of the EMA")
    vw.add_argument("--seed", type=SEED, default=0)
    vw.add_argument("--columns", type=number_in(2, 12), default=V.GRID_COLUMNS, help="class-grid: noise vectors")
    vw.add_argument("--truncation", type=number_in(1e-3, 100.0, float), default=None, help="class-grid")
    vw.add_argument("--from-class", type=int, default=0, help="class-interp: first class")
    vw.add_argument("--to-class", type=int, default=1, help="class-interp: last class")
    vw.add_argument("--rows", type=number_in(1, 8), default=V.INTERP_ROWS, help="class-interp: noise vectors")
    vw.add_argument("--steps", type=number_in(1, 1000), default=None,
                    help=f"class-interp: images along the path ({V.INTERP_STEPS}); trajectory: sampling steps "
                         "(the run's own)")
    vw.add_argument("--method", default=None, help="trajectory: ddim/ddpm or euler/midpoint (the run's own)")
    vw.add_argument("--states", type=number_in(2, 32), default=V.STRIP_STATES, help="trajectory: states shown")
    vw.add_argument("--label", type=int, default=None, help="trajectory, completion: class (conditional runs; "
                                                            "completion: the test image's own)")
    vw.add_argument("--index", type=number_in(0, 10_000), default=0, help="completion: test image")
    vw.add_argument("--region", default="lower half", choices=V.REGIONS, help="completion: what is hidden")
    vw.add_argument("--first-row", type=int, default=None, help="completion, region 'rows from': first hidden row")
    vw.add_argument("--n", type=number_in(1, 64), default=None,
                    help=f"completion: completions ({V.COMPLETIONS}); pixels: images drawn at once ({V.PIXEL_IMAGES})")
    vw.add_argument("--every", type=number_in(1, 4096), default=None,
                    help="pixels: pixels drawn per frame (the page's default: half a row)")
    vw.add_argument("--scale", type=number_in(0, 32), default=0, help="pixel upscaling (0: automatic)")
    vw.add_argument("--out", required=True, help="PNG to write")
    output_flags(vw)
    vw.set_defaults(func=view_command)

    pr = cmds.add_parser("probe", help="what the scores see: FID and IS of disturbed test images per strength "
                                       "(the probe page's curves, same defaults)")
    from playground.configs import add_arguments

    add_arguments(pr, probe.ProbeConfig)
    output_flags(pr)
    pr.set_defaults(func=probe_command)
    me = cmds.add_parser("memorise", help="a run's samples beside their nearest training images, in pixels and "
                                          "features, against the test split's distances")
    me.add_argument("--run", required=True, help="run directory, or a shipped model's name")
    me.add_argument("--n", type=number_in(1, 4096), default=probe.DEFAULT_SAMPLES)
    me.add_argument("--k", type=number_in(1, 16), default=probe.DEFAULT_NEIGHBOURS, help="neighbours per sample")
    me.add_argument("--seed", type=SEED, default=0)
    output_flags(me)
    me.set_defaults(func=memorise_command)

    ev = cmds.add_parser("eval", help="score a run's checkpoint: FID, KID, precision, recall, IS (and per class)")
    ev.add_argument("--run", required=True, help="run directory, or a shipped model's name (digits-dcgan)")
    ev.add_argument("--checkpoint", default="latest")
    ev.add_argument("--n", type=int, default=1000, help="generated images")
    ev.add_argument("--seed", type=SEED, default=0)
    ev.add_argument("--split", default="train", choices=["train", "test"], help="reference images")
    ev.add_argument("--features", choices=["auto", "classifier", "random", "inception"], default=None)
    ev.add_argument("--per-class", type=int, default=0, metavar="N",
                    help="conditional models: also score N images of each class against that class's real "
                         "images (FID, KID, the fraction the classifier assigns to the class); 0 = off")
    output_flags(ev)
    ev.set_defaults(func=eval_command)

    bl = cmds.add_parser("baseline", help="score the dataset's test split against its train split (real images' "
                                          "FID: the floor to compare a model's FID with)")
    bl.add_argument("--dataset", required=True)
    bl.add_argument("--resolution", type=int, default=None)
    bl.add_argument("--data-path", default="data")
    bl.add_argument("--features", choices=["auto", "classifier", "random", "inception"], default="auto")
    output_flags(bl)
    bl.set_defaults(func=baseline_command)

    fe = cmds.add_parser("features", help="train a dataset's feature classifier and write it with a card")
    fe.add_argument("--dataset", required=True)
    fe.add_argument("--resolution", type=int, default=None)
    fe.add_argument("--data-path", default="data")
    fe.add_argument("--steps", type=int, default=None)
    fe.add_argument("--seed", type=SEED, default=0)
    fe.add_argument("--threads", type=int, default=1)
    fe.add_argument("--out", default="pretrained/features")
    fe.add_argument("--json", action="store_true")
    fe.set_defaults(func=features_command)

    pr = cmds.add_parser("presets", help="list the known-good presets")
    pr.add_argument("--json", action="store_true")
    pr.set_defaults(func=presets_command)

    from playground.runs.animation import add_gif_parser
    add_gif_parser(cmds)                          # `images gif`: sample grids over training as an animated GIF
