#!/bin/sh
# Retrain the shipped models with the project's own CLI and rewrite their cards:
# every VAE (pretrained/vae/*.json), then the image GANs (pretrained/image_runs/*.json; digits-dcgan).
# Arguments name VAEs to retrain (e.g. digits-2d); with arguments the image GANs are skipped.
# The feature classifiers (pretrained/features) are retrained by `make pretrained`.
set -e
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
"$PY" -m playground.vae.pretrained "$@"
if [ $# -eq 0 ]; then
    "$PY" -m playground.images.pretrained
fi
