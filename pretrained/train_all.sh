#!/bin/sh
# Retrain every shipped VAE with the project's own CLI and rewrite its card (pretrained/vae/*.json).
set -e
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
exec "$PY" -m playground.vae.pretrained "$@"
