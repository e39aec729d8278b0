"""Output heads of autoregressive models: the distribution of each pixel given its past.

A head turns the network's last feature maps into distribution parameters, scores
data under them and samples from them. A model's ``output=`` argument takes a head as
its registered name, an instance, or its serialised form ``{"name": ..., "config": {...}}``
(:func:`get`, :func:`serialize`, as Keras does for initialisers), so a new head plugs in
with :func:`register_head` without touching the models (PixelCNN++'s
``"logistic_mixture"`` is one of them):

* ``per_channel = True``: the channels of a pixel are generated one after the other
  (R → G → B), each with its own distribution, so sampling takes C steps per pixel
  and the network's colour masks order the channels;
* ``per_channel = False``: a whole pixel (all channels) is drawn in one step, and
  the network must not see any channel of the current pixel.
"""

from keras import ops

from keras_gen import ops as kg_ops
from keras_gen.validation import check_int

HEADS = {}


def register_head(cls):
    """Class decorator: make ``cls`` available as ``output=cls.name``."""
    HEADS[cls.name] = cls
    return cls


def get(identifier, **options):
    """The head for ``output=identifier``: a registered name, an :class:`OutputHead`, or ``serialize``'s dict.

    ``options`` are constructor arguments (such as ``num_components``): a name's head is
    made with them; a head given otherwise must already have them (ValueError if not).

    Example::

        from keras_gen import heads

        heads.get("bernoulli").per_channel                                  # True
        head = heads.get("logistic_mixture", num_components=5)
        heads.get(heads.serialize(head)).num_components                     # 5
    """
    if isinstance(identifier, OutputHead):
        head = identifier
    elif isinstance(identifier, dict) and set(identifier) <= {"name", "config"} and "name" in identifier:
        head = _registered(identifier["name"]).from_config(identifier.get("config", {}))
    elif isinstance(identifier, str):
        return _registered(identifier)(**options)
    else:
        raise ValueError(
            f"output must be a head's name (one of {sorted(HEADS)}), an OutputHead or a dict "
            f"{{'name': ..., 'config': {{...}}}}, got {identifier!r}."
        )
    config = head.get_config()
    differ = {key: value for key, value in options.items() if config.get(key) != value}
    if differ:
        raise ValueError(f"the head {head.name!r} has the options {config}, which disagree with {differ}.")
    return head


def _registered(name):
    if name not in HEADS:
        raise ValueError(f"output must be one of {sorted(HEADS)}, got {name!r}.")
    return HEADS[name]


def serialize(head):
    """``head`` for a model's config: its name where it has its class's default options, else ``{"name", "config"}``."""
    config = head.get_config()
    return head.name if config == type(head)().get_config() else {"name": head.name, "config": config}


class OutputHead:
    """The interface every head implements (see the module docstring).

    Attributes: ``name`` (the ``output=`` string), ``data_type`` (``"binary"`` or
    ``"8bit"``) and ``per_channel``. A head with constructor options returns them from
    ``get_config`` (every option needs a default), so that models can save it.
    """

    name = None
    data_type = None
    per_channel = True

    def num_outputs(self, channels):
        """How many feature maps the network's last layer must produce per pixel."""
        raise NotImplementedError

    def get_config(self):
        """The constructor arguments, ``{}`` for a head without options."""
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def noise_channels(self, channels):
        """How many uniform numbers in [0, 1) one pixel needs to be sampled."""
        return channels

    def outputs_to_params(self, outputs, channels):
        """The distribution parameters, ``model(x)``'s output, from the last layer's maps."""
        return outputs

    def log_prob(self, params, x):
        """Log-likelihood of the data ``x`` (B, H, W, C): per sub-pixel (B, H, W, C) or per pixel (B, H, W)."""
        raise NotImplementedError

    def sample(self, params, noise):
        """Pixels (B, H, W, C) in data space, as floats, drawn with the uniform ``noise``.

        ``params`` may cover any H × W (the sampler passes one pixel, H = W = 1);
        ``noise`` has shape (B, H, W, ``noise_channels(C)``), and every pixel is
        drawn from its own parameters and numbers.
        """
        raise NotImplementedError


@register_head
class BernoulliHead(OutputHead):
    """Binary sub-pixels: ``model(x)`` is one logit per sub-pixel, (B, H, W, C); p = sigmoid(logit)."""

    name = "bernoulli"
    data_type = "binary"

    def num_outputs(self, channels):
        return channels

    def log_prob(self, params, x):
        return kg_ops.bernoulli_log_prob(params, ops.cast(x, params.dtype))

    def sample(self, params, noise):
        return ops.cast(noise < ops.sigmoid(params), params.dtype)


@register_head
class CategoricalHead(OutputHead):
    """8-bit sub-pixels: ``model(x)`` is a 256-way softmax's logits per sub-pixel, (B, H, W, C, 256)."""

    name = "categorical"
    data_type = "8bit"
    num_values = 256

    def num_outputs(self, channels):
        return channels * self.num_values

    def outputs_to_params(self, outputs, channels):
        shape = ops.shape(outputs)
        return ops.reshape(outputs, (shape[0], shape[1], shape[2], channels, self.num_values))

    def log_prob(self, params, x):
        return kg_ops.categorical_log_prob(params, x)

    def sample(self, params, noise):
        return kg_ops.categorical_sample(params, noise)


@register_head
class LogisticMixtureHead(OutputHead):
    """8-bit pixels from a discretised logistic mixture: ``model(x)`` is (B, H, W, P),
    P = 10 K for RGB (layout: ``keras_gen.ops.logistic_mixture``); a whole pixel per step."""

    name = "logistic_mixture"
    data_type = "8bit"
    per_channel = False

    def __init__(self, num_components=10):
        self.num_components = check_int("num_components", num_components)

    def get_config(self):
        return {"num_components": self.num_components}

    def num_outputs(self, channels):
        return kg_ops.logistic_mixture_num_params(channels, self.num_components)

    def noise_channels(self, channels):
        return channels + 1  # one number for the component, one per channel

    def log_prob(self, params, x):
        return kg_ops.discretized_logistic_mixture_log_prob(x, params)

    def sample(self, params, noise):
        return kg_ops.sample_discretized_logistic_mixture(params, noise)
