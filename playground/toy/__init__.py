"""Toy 1D/2D GANs: targets with exact densities, MLP nets, objectives, the step loop, metrics and fields."""
