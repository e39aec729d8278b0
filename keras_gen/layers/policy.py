"""One dtype policy per model: a layer's sub-layers follow the policy it was given.

Keras gives every layer the global policy unless it is passed ``dtype=``; a composite
layer or model built with ``dtype="bfloat16"`` (or ``"mixed_bfloat16"``) would otherwise
compute in float32 inside. :func:`share_dtype_policy` hands the owner's policy to every
sub-layer that has no weights yet and still has the global one (a sub-layer given its own
``dtype=`` keeps it). Models call it before they create their weights, composite layers
at the start of ``build``; sub-layers created inside ``build`` are passed
``dtype=self.dtype_policy`` directly.
"""

import keras


def share_dtype_policy(layer):
    """Give ``layer``'s dtype policy to its sub-layers that have the global policy and no weights yet."""
    default = keras.config.dtype_policy().name
    if layer.dtype_policy.name == default:
        return
    for sublayer in layer._flatten_layers(include_self=False, recursive=True):
        if not sublayer.weights and sublayer.dtype_policy.name == default:
            sublayer.dtype_policy = layer.dtype_policy
