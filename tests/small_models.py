"""Every public model of keras_gen in a tiny configuration, with a batch of valid inputs.

Shared by the tests that run over all models (dtype policies, the layer/model contract);
the configurations are as small as the models allow, so the whole list builds in seconds.
"""

import numpy as np

from keras_gen import models

# name: (class, constructor keyword arguments)
SMALL_MODELS = {
    "vae_mlp": (models.VAE, dict(image_shape=(8, 8, 1), latent_dim=2, hidden_units=(8,), seed=1)),
    "vae_conv": (models.VAE, dict(image_shape=(8, 8, 1), latent_dim=2, architecture="conv", hidden_units=(8,), seed=1)),
    "draw": (
        models.DRAW,
        dict(image_shape=(6, 6, 1), T=2, read_n=2, write_n=2, z_dim=2, enc_units=4, dec_units=4, seed=1),
    ),
    "draw_no_attention": (
        models.DRAW,
        dict(image_shape=(6, 6, 1), T=2, z_dim=2, enc_units=4, dec_units=4, attention=False, seed=1),
    ),
    "pixelcnn": (models.PixelCNN, dict(image_shape=(5, 5, 1), filters=4, num_layers=1)),
    "pixelcnn_categorical": (
        models.PixelCNN,
        dict(image_shape=(3, 3, 3), filters=6, num_layers=1, output="categorical"),
    ),
    "pixelrnn_row": (models.PixelRNN, dict(image_shape=(4, 4, 1), layer_type="row_lstm", num_layers=1, units=4)),
    "pixelrnn_diagonal": (
        models.PixelRNN,
        dict(image_shape=(4, 4, 1), layer_type="diagonal_bilstm", num_layers=2, units=4, skip=True),
    ),
    "multiscale_pixelrnn": (
        models.MultiScalePixelRNN,
        dict(image_shape=(4, 4, 1), factor=2, layer_type="row_lstm", num_layers=1, units=4),
    ),
    "gated_pixelcnn": (models.GatedPixelCNN, dict(image_shape=(5, 5, 1), filters=4, num_layers=1)),
    "gated_pixelcnn_labels": (
        models.GatedPixelCNN,
        dict(image_shape=(5, 5, 1), filters=4, num_layers=1, num_classes=3),
    ),
    "gated_pixelcnn_map": (
        models.GatedPixelCNN,
        dict(image_shape=(4, 4, 1), filters=4, num_layers=1, map_channels=2),
    ),
    "gated_pixelcnn_colour": (
        models.GatedPixelCNN,
        dict(image_shape=(3, 3, 3), filters=6, num_layers=1, output="categorical"),
    ),
    "pixelcnn_plus_plus": (
        models.PixelCNNPlusPlus,
        dict(image_shape=(4, 4, 3), filters=4, blocks_per_stage=1, num_downsamplings=1, num_components=2, seed=1),
    ),
    "pixelvae": (
        models.PixelVAE,
        dict(image_shape=(8, 8, 1), latent_dim=2, hidden_units=(8,), map_channels=2, filters=4, num_layers=1, seed=1),
    ),
    "hierarchical_pixelvae": (
        models.HierarchicalPixelVAE,
        dict(
            image_shape=(8, 8, 1),
            latent_dim=2,
            top_dim=1,
            hidden_units=(8,),
            top_hidden_units=(4,),
            map_channels=2,
            filters=4,
            num_layers=1,
            seed=1,
        ),
    ),
}


def make_model(key, **overrides):
    cls, kwargs = SMALL_MODELS[key]
    return cls(**{**kwargs, **overrides})


def model_inputs(model, n=2, seed=0):
    """``(x, conditions)``: n valid images for ``model`` and the keyword conditions its ``log_prob`` takes."""
    rng = np.random.default_rng(seed)
    shape = (n,) + model.image_shape
    if model.data_type == "binary":
        x = (rng.random(shape) < 0.4).astype("float32")
    else:
        x = rng.integers(0, 256, shape).astype("int32")
    conditions = {}
    for name, spec in (model.condition_specs() if hasattr(model, "condition_specs") else {}).items():
        if spec.kind == "class":
            conditions[name] = rng.integers(0, spec.num_classes, n).astype("int32")
        else:  # a map (no model here takes an image condition)
            conditions[name] = rng.normal(size=(n,) + spec.shape).astype("float32")
    return x, conditions


def call_inputs(model, x, conditions):
    """What ``model(...)`` takes: the images, or a dict with the conditions."""
    return {"image": x, **conditions} if conditions else x
