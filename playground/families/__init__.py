"""Every family of generative model on the toy targets, behind one interface (`base.FamilyModel`).

A family is a module here that registers a builder with `base.register(name)`: flows, autoregressive models,
a VAE on 2D data, diffusion and flow matching; the GAN family wraps the GAN lab's engine (`playground.toy`).
"""
