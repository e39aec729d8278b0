"""DRAW, the Deep Recurrent Attentive Writer (Gregor et al., 2015): a VAE that draws in T steps.

An encoder LSTM reads the image and the error of the current canvas, a decoder LSTM
receives one latent code per step and adds what it writes to the canvas:

    x_hat_t = x - sigmoid(c_{t-1})                          (eq. 3)
    r_t     = read(x, x_hat_t, h^dec_{t-1})                 (eq. 4)
    h^enc_t = LSTM^enc(h^enc_{t-1}, [r_t, h^dec_{t-1}])     (eq. 5)
    z_t     ~ Q(Z_t | h^enc_t) = N(mu_t, sigma_t^2)         (eq. 1-2, 6)
    h^dec_t = LSTM^dec(h^dec_{t-1}, z_t)                    (eq. 7)
    c_t     = c_{t-1} + write(h^dec_t)                      (eq. 8)

The loss is ``-log D(x | c_T)`` (Bernoulli with means ``sigmoid(c_T)``, eq. 9) plus the
KL of every step's posterior from the N(0, I) prior, summed over the T steps (eq. 10–11).
For 8-bit colour images (``output="logistic"``, as for the paper's SVHN and CIFAR-10
experiments) D is a discretised logistic per sub-pixel instead, with mean ``sigmoid(c_T)``
on the [0, 1] intensity scale and a learned scale per channel; the network reads the
images scaled to [0, 1], so eq. 3 keeps its form.
The posterior layer emits ``(mu_t, log sigma_t^2)``, the VAE's convention (the paper's
eq. 2 emits ``log sigma_t``: the same family, up to a factor 2 in the affine map).
"""

import math

import keras
import numpy as np
from keras import ops

from keras_gen import ops as kg_ops
from keras_gen.layers import AttentiveRead, AttentiveWrite, FullRead, FullWrite
from keras_gen.layers.policy import share_dtype_policy
from keras_gen.models.base import LatentVariableModel
from keras_gen.ops.remat import recompute_in_backward
from keras_gen.validation import check_bool, check_choice, check_int, resolve_seed

OUTPUTS = {"bernoulli": "binary", "logistic": "8bit"}  # the likelihood D and the data it takes


def lstm_cell_update(cell, pre_activations, c_prev):
    """The update of a ``keras.layers.LSTMCell`` from its pre-activations, in Keras's gate order [i, f, c, o]."""
    i, f, g, o = ops.split(pre_activations, 4, axis=-1)
    c = cell.recurrent_activation(f) * c_prev + cell.recurrent_activation(i) * cell.activation(g)
    return cell.recurrent_activation(o) * cell.activation(c), c


@keras.saving.register_keras_serializable(package="keras_gen")
class DRAW(LatentVariableModel):
    """The DRAW network with or without Gaussian attention, for binary or 8-bit images.

    Args:
        image_shape: (H, W, C) of the images; read and write use one filterbank for all C channels.
        T: number of drawing steps (glimpses, latent codes and canvas updates).
        read_n: the read grid is read_n × read_n filters (attention only).
        write_n: the write patch is write_n × write_n pixels (attention only).
        z_dim: size of each step's latent code z_t.
        enc_units, dec_units: sizes of the encoder and decoder LSTMs.
        attention: ``True``: read and write through N×N grids of Gaussian filters whose
            place, zoom and sharpness the decoder chooses (eq. 19–29); ``False``: read
            the whole image and error image, write the whole canvas (eq. 17–18).
        output: ``"bernoulli"`` (binary images) or ``"logistic"`` (8-bit images: a
            discretised logistic per sub-pixel, section 2.1 of Salimans et al. 2017 with one
            component and no colour coupling, its scale learned per channel).
        seed: seed of the noise of the reparameterised samples during training.

    The initial canvas c_0 and hidden states h^enc_0, h^dec_0 are learned biases. The T
    steps run as one ``keras.ops.scan``, so a graph is traced once whatever T is.
    ``model(x)`` returns the final canvas c_T, the Bernoulli logits (B, H, W, C).

    Reference:
        - Gregor, Danihelka, Graves, Rezende and Wierstra (2015). DRAW: A Recurrent Neural Network
          for Image Generation. ICML 2015.
          https://arxiv.org/abs/1502.04623

    Example::

        import numpy as np
        from keras_gen import models

        x = (np.random.default_rng(0).random((8, 12, 12, 1)) < 0.3).astype("float32")
        draw = models.DRAW(image_shape=(12, 12, 1), T=4, read_n=3, write_n=3, z_dim=4, enc_units=32, dec_units=32)
        draw.log_prob(x, seed=0)                             # the ELBO per image, nats, shape (8,)
        trace = draw.reconstruction_trace(x[:2], seed=0)     # canvases (2, 4, 12, 12, 1), windows, KL per step
        draw.sample(2, seed=1)                               # (2, 12, 12, 1) in {0, 1}
    """

    def __init__(
        self,
        image_shape=(28, 28, 1),
        T=10,
        read_n=2,
        write_n=5,
        z_dim=100,
        enc_units=256,
        dec_units=256,
        attention=True,
        output="bernoulli",
        seed=None,
        **kwargs,
    ):
        check_choice("output", output, OUTPUTS)
        super().__init__(image_shape, data_type=OUTPUTS[output], **kwargs)
        self.output_distribution = output
        self.T = check_int("T", T)
        self.read_n = check_int("read_n", read_n)
        self.write_n = check_int("write_n", write_n)
        self.z_dim = check_int("z_dim", z_dim)
        self.enc_units = check_int("enc_units", enc_units)
        self.dec_units = check_int("dec_units", dec_units)
        self.attention = check_bool("attention", attention)
        self.seed = seed
        if self.attention:
            self.reader = AttentiveRead(self.read_n, self.image_shape, name="read")
            self.writer = AttentiveWrite(self.write_n, self.image_shape, name="write")
        else:
            self.reader = FullRead(name="read")
            self.writer = FullWrite(self.image_shape, name="write")
        self.encoder_cell = keras.layers.LSTMCell(self.enc_units, name="encoder")
        self.decoder_cell = keras.layers.LSTMCell(self.dec_units, name="decoder")
        self.posterior = keras.layers.Dense(2 * self.z_dim, name="posterior")
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.initial_canvas = self.add_weight(shape=self.image_shape, initializer="zeros", name="initial_canvas")
        self.initial_h_enc = self.add_weight(shape=(self.enc_units,), initializer="zeros", name="initial_h_enc")
        self.initial_h_dec = self.add_weight(shape=(self.dec_units,), initializer="zeros", name="initial_h_dec")
        if output == "logistic":  # log s per channel, in the [-1, 1] scale of the bins (width 2/255)
            self.log_scale = self.add_weight(
                shape=(self.image_shape[2],), initializer=keras.initializers.Constant(-2.0), name="log_scale"
            )
        self.create_weights()

    def create_weights(self):
        """Build every sub-layer from its known input shape, without an eager run of the T steps."""
        share_dtype_policy(self)
        height, width, channels = self.image_shape
        image = (None,) + self.image_shape
        self.reader.build([image, image, (None, self.dec_units)])
        glimpse_size = 2 * (self.read_n**2 if self.attention else height * width) * channels
        self.encoder_cell.build((None, glimpse_size + self.dec_units))
        self.posterior.build((None, self.enc_units))
        self.decoder_cell.build((None, self.z_dim))
        self.writer.build((None, self.dec_units))
        self.built = True

    def _initial_record(self, batch_size, with_encoder):
        """The record before step 1: c_0 and h_0 are learned biases; LSTM cells, codes and windows zeros."""

        def batched(weight):
            return ops.broadcast_to(ops.cast(weight, self.compute_dtype), (batch_size,) + tuple(weight.shape))

        def zeros(size):
            return ops.zeros((batch_size, size), dtype=self.compute_dtype)

        record = {
            "canvas": batched(self.initial_canvas),
            "h_dec": batched(self.initial_h_dec),
            "cell_dec": zeros(self.dec_units),
        }
        if self.attention:
            record["write_window"] = zeros(5)
        if with_encoder:
            record.update(h_enc=batched(self.initial_h_enc), cell_enc=zeros(self.enc_units))
            record.update(mean=zeros(self.z_dim), log_var=zeros(self.z_dim), z=zeros(self.z_dim))
            # the step-wise KL and log-ratio are accumulated in float32 whatever the compute dtype
            record.update(kl=ops.zeros((batch_size,), "float32"), log_ratio=ops.zeros((batch_size,), "float32"))
            if self.attention:
                record["read_window"] = zeros(5)
        return record

    def _decode_step(self, record, z, training=False):
        """eq. 7–8: the decoder takes z_t and adds what it writes to the canvas."""
        h_dec, (_, cell_dec) = self.decoder_cell(z, [record["h_dec"], record["cell_dec"]], training=training)
        update = self.writer(h_dec)
        new = {"h_dec": h_dec, "cell_dec": cell_dec}
        if self.attention:
            update, new["write_window"] = update
        new["canvas"] = record["canvas"] + update
        return new

    def _image_term(self, x):
        """Without attention, the part of the encoder's input product that is the same at every step, else ``None``.

        The read is ``[x, x_hat]`` (eq. 17) with ``x_hat = x - sigmoid(c_{t-1})`` (eq. 3), so the
        encoder's input product ``[x, x_hat, h^dec] K`` splits into ``x (K_x + K_x_hat)``, computed
        here once, and ``- sigmoid(c_{t-1}) K_x_hat + h^dec K_h``, computed at every step
        (:meth:`_encode`): the same LSTM with about 40 % fewer multiplications per step.
        """
        if self.attention:
            return None
        pixels = math.prod(self.image_shape)
        kernel = ops.cast(self.encoder_cell.kernel, self.compute_dtype)
        return ops.matmul(ops.reshape(x, (-1, pixels)), kernel[:pixels] + kernel[pixels : 2 * pixels])

    def _encode(self, x, image_term, record, training=False):
        """eq. 3–5: the read and the encoder LSTM's new state ``(h_enc, cell_enc)``, with the read window if any.

        With attention the read layer reads ``x`` and ``x_hat`` and the encoder cell takes the glimpse;
        without it the encoder's pre-activations are summed from ``image_term`` (:meth:`_image_term`),
        which equals ``FullRead`` followed by the cell (``tests/test_draw.py`` checks it).
        """
        h_dec, state = record["h_dec"], [record["h_enc"], record["cell_enc"]]
        if self.attention:
            glimpse, window = self.reader([x, x - ops.sigmoid(record["canvas"]), h_dec])
            h_enc, (_, cell_enc) = self.encoder_cell(
                ops.concatenate([glimpse, h_dec], axis=-1), state, training=training
            )
            return h_enc, cell_enc, {"read_window": window}
        cell, pixels = self.encoder_cell, math.prod(self.image_shape)
        kernel = ops.cast(cell.kernel, self.compute_dtype)
        means = ops.reshape(ops.sigmoid(record["canvas"]), (-1, pixels))
        pre_activations = (
            image_term
            - ops.matmul(means, kernel[pixels : 2 * pixels])
            + ops.matmul(h_dec, kernel[2 * pixels :])
            + ops.matmul(record["h_enc"], ops.cast(cell.recurrent_kernel, self.compute_dtype))
            + ops.cast(cell.bias, self.compute_dtype)
        )
        return (*lstm_cell_update(cell, pre_activations, record["cell_enc"]), {})

    def _infer(self, x, seed_generator=None, training=False, keep_steps=False):
        """Run eq. 3–8 for T steps as one traced loop (``keras.ops.scan``).

        Returns the record after step T, whose ``kl`` and ``log_ratio`` are sums over the
        steps of ``KL(Q(Z_t) || P)`` and ``log p(z_t) - log Q(z_t | h^enc_t)``; with
        ``keep_steps`` also the record of every step, stacked as (T, B, ...).
        """
        x = self.scale_image(x)
        batch_size = ops.shape(x)[0]
        seed_generator = self.seed_generator if seed_generator is None else seed_generator
        noise = keras.random.normal((self.T, batch_size, self.z_dim), dtype=self.compute_dtype, seed=seed_generator)

        image_term = self._image_term(x)

        def step(record, eps):
            h_enc, cell_enc, new = self._encode(x, image_term, record, training)
            mean, log_var = ops.split(self.posterior(h_enc), 2, axis=-1)
            z = kg_ops.reparameterize(mean, log_var, eps)  # a draw of Q(Z_t | h^enc_t)
            new.update(h_enc=h_enc, cell_enc=cell_enc, mean=mean, log_var=log_var, z=z)
            z32, mean32, log_var32 = (ops.cast(t, "float32") for t in (z, mean, log_var))
            new["kl"] = record["kl"] + kg_ops.gaussian_kl(mean32, log_var32)
            new["log_ratio"] = record["log_ratio"] + (
                kg_ops.standard_normal_log_prob(z32) - kg_ops.diagonal_gaussian_log_prob(z32, mean32, log_var32)
            )
            new.update(self._decode_step(record, z, training))
            return new, (new if keep_steps else None)

        # With attention a step's arithmetic is small and storing its intermediate values for the
        # gradient costs more than recomputing them (measured on JAX: 1.15× the training speed, benchmarks/README.md);
        # without attention its large matrix products make recomputing them the dearer choice.
        step = recompute_in_backward(step) if self.attention else step
        final, steps = ops.scan(step, self._initial_record(batch_size, with_encoder=True), noise)
        return (final, steps) if keep_steps else final

    def _generate(self, z):
        """eq. 13–16: the decoder alone, fed codes z of shape (T, B, z_dim); records stacked (T, B, ...)."""

        def step(record, z_t):
            new = self._decode_step(record, z_t)
            return new, new

        return ops.scan(step, self._initial_record(ops.shape(z)[1], with_encoder=False), z)[1]

    def scale_image(self, x):
        """The images as the network reads them: binary as they are, 8-bit values divided by 255."""
        x = ops.cast(x, self.compute_dtype)
        return x if self.output_distribution == "bernoulli" else x / 255.0

    def logistic_params(self, means):
        """The parameters of D(x | c) per pixel for means ``sigmoid(c)`` in [0, 1], in the layout of
        ``keras_gen.ops.logistic_mixture`` with one component: the mean ``2 sigmoid(c) - 1`` on the
        bins' [-1, 1] scale, the learned log-scale of each channel, no coupling between channels."""
        means = ops.cast(means, "float32")
        channels = self.image_shape[2]
        pixels = tuple(ops.shape(means)[:-1])
        log_scales = ops.broadcast_to(ops.cast(self.log_scale, "float32"), ops.shape(means))
        couplings = ops.zeros(pixels + (channels * (channels - 1) // 2,), "float32")
        logit = ops.zeros(pixels + (1,), "float32")
        return ops.concatenate([logit, 2.0 * means - 1.0, log_scales, couplings], axis=-1)

    def reconstruction_log_prob(self, x, params):
        if self.output_distribution == "bernoulli":
            return super().reconstruction_log_prob(x, params)
        means = ops.sigmoid(ops.cast(params, "float32"))
        per_pixel = kg_ops.discretized_logistic_mixture_log_prob(ops.cast(x, "float32"), self.logistic_params(means))
        return ops.sum(per_pixel, axis=(1, 2))

    def params_and_kl(self, x, training=False, seed_generator=None):
        """The final canvas c_T (Bernoulli logits) and the KL summed over the T steps (eq. 10–11)."""
        final = self._infer(x, seed_generator, training)
        return final["canvas"], final["kl"]

    def log_importance_weights(self, x, num_samples, seed_generator):
        """``log D(x | c_T) + sum_t [log p(z_t) - log Q(z_t | h^enc_t)]`` for k runs per image.

        Q factorises over the steps, each z_t depending on the codes before it through
        the LSTM states, so a run's weight is its likelihood times the step-wise ratios.
        """
        x_repeated = ops.repeat(ops.cast(x, "float32"), num_samples, axis=0)
        final = self._infer(x_repeated, seed_generator)
        log_weights = self.reconstruction_log_prob(x_repeated, final["canvas"]) + final["log_ratio"]
        return ops.reshape(log_weights, (-1, num_samples))

    @staticmethod
    def _trace(steps, keys):
        """The chosen (T, B, ...) records as (B, T, ...), with canvases as Bernoulli means."""
        trace = {key: ops.moveaxis(steps[key], 0, 1) for key in keys if key in steps}
        trace["canvases"] = ops.sigmoid(ops.moveaxis(steps["canvas"], 0, 1))
        return trace

    def reconstruction_trace(self, x, *, seed=None, batch_size=256):
        """Every step of reconstructing x, as NumPy arrays with the step axis second.

        Returns ``canvases`` (B, T, H, W, C), the Bernoulli means ``sigmoid(c_t)``;
        ``mean``, ``log_var`` and ``z`` (B, T, z_dim) of each step's posterior; ``kl`` (B, T),
        the KL of steps 1..t from the prior, a running sum that ends at the model's KL; and with
        attention ``read_window``, ``write_window`` (B, T, 5): centre x, centre y, stride,
        variance and intensity in pixels (``keras_gen.layers.attention.WINDOW_FIELDS``).
        """
        x = self.check_images(x)
        keys = ("mean", "log_var", "z", "kl", "read_window", "write_window")
        return self.run_compiled(
            "reconstruction_trace",
            lambda inputs, seeds: self._trace(self._infer(inputs["x"], seeds, keep_steps=True)[1], keys),
            {"x": x},
            batch_size=batch_size,
            seed=seed,
        )

    def generation_trace(self, n, *, seed=None, batch_size=256):
        """Every step of drawing n images from the prior, z_t ~ N(0, I), as NumPy arrays.

        Returns ``canvases`` (n, T, H, W, C), the Bernoulli means ``sigmoid(c_t)``, the codes
        ``z`` (n, T, z_dim) and, with attention, ``write_window`` (n, T, 5).
        """
        n = check_int("n", n)
        seed = resolve_seed(seed)
        z = np.random.default_rng(seed).standard_normal((n, self.T, self.z_dim)).astype("float32")
        trace = self.run_compiled(
            "generation_trace",
            lambda inputs, _: self._trace(self._generate(ops.moveaxis(inputs["z"], 1, 0)), ("write_window",)),
            {"z": z},
            batch_size=batch_size,
        )
        return {**trace, "z": z}

    def sample_means(self, n, seed=None, *, batch_size=256):
        """The means sigmoid(c_T) of D for n images, in [0, 1], with z_t ~ N(0, I) for t = 1..T."""
        return self.generation_trace(n, seed=seed, batch_size=batch_size)["canvases"][:, -1]

    def sample(self, n, seed=None, *, batch_size=256):
        """``n`` images from the prior: binary (Bernoulli) or 8-bit (uint8, discretised logistic)."""
        if self.output_distribution == "bernoulli":
            return super().sample(n, seed, batch_size=batch_size)
        seed = resolve_seed(seed)
        means = self.sample_means(check_int("n", n), seed, batch_size=batch_size)
        uniform = np.random.default_rng((seed, 1)).random(means.shape[:-1] + (1 + means.shape[-1],), dtype=np.float32)
        drawn = kg_ops.sample_discretized_logistic_mixture(self.logistic_params(means), uniform)
        return np.asarray(ops.convert_to_numpy(drawn)).round().astype("uint8")

    def get_config(self):
        return {
            **super().get_config(),
            "T": self.T,
            "read_n": self.read_n,
            "write_n": self.write_n,
            "z_dim": self.z_dim,
            "enc_units": self.enc_units,
            "dec_units": self.dec_units,
            "attention": self.attention,
            "output": self.output_distribution,
            "seed": self.seed,
        }
