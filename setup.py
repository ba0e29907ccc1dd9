"""Packaging that pyproject.toml cannot say alone: the top-level `pretrained/` folder (the shipped models and
their cards) travels inside the wheel as `playground/pretrained/`, where `playground.paths.pretrained_dir()`
finds it once installed. Everything else is in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["playground", "playground.*", "app", "app.*"]), "playground.pretrained"],
    package_dir={"playground.pretrained": "pretrained"},
)
