"""The model factory: `slm-mesh factory RECIPE`, making the mesh's models smaller, faster
and better at one home, each step measured.

Every recipe trains with a seed, prints and plots its training and validation loss, stops
at the best validation loss, and writes a plugin folder (`serve --plugin path:DIR`) with a
model card. PyTorch and transformers come from the optional `factory` extra and are imported
inside the recipes only, so the services never need them.
"""
