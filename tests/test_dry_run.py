"""The gpu profile, the dry run (KERAS_GEN_STEPS) and the FLOP count behind the time estimates.

The dry run is the book's (``keras_gen.book.dry_run``): installed by ``profiles.current()``, it
wraps the models from outside; the models themselves never read ``KERAS_GEN_STEPS``."""

import keras
import numpy as np
import pytest
from helpers import random_binary_images

from keras_gen import models
from keras_gen.book import cost, dry_run, profiles


def test_gpu_profile_and_its_default(monkeypatch):
    monkeypatch.setenv(profiles.ENV_VAR, "gpu")
    profile = profiles.current()
    assert profile.choose(smoke=1, cpu=2, gpu=3, full=4) == 3
    assert profile.choose(smoke=1, cpu=2, full=4) == 4  # gpu defaults to the full value
    assert not profile.loads_checkpoints
    assert profiles.Profile("full").choose(smoke=1, cpu=2, gpu=3, full=4) == 4


def test_caps_apply_only_in_a_dry_run(monkeypatch):
    profile = profiles.Profile("full")
    monkeypatch.delenv(profiles.STEPS_VAR, raising=False)
    assert profile.cap_epochs(60) == 60 and profile.cap_images(10_000, 5) == (10_000, 5)
    monkeypatch.setenv(profiles.STEPS_VAR, "2")
    assert profile.dry_run_steps == 2
    assert profile.cap_epochs(60, 100) == (1, 1)
    assert profile.cap_images(10_000, 5) == (profiles.DRY_RUN_IMAGES, 5)
    assert profile.cap_images(16, at_most=2) == 2


@pytest.mark.parametrize("value", ["0", "-3", "two"])
def test_bad_step_count_is_rejected(monkeypatch, value):
    monkeypatch.setenv(profiles.STEPS_VAR, value)
    with pytest.raises(ValueError, match="KERAS_GEN_STEPS must be a positive number"):
        profiles.current()


class _CountBatches(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_train_batch_end(self, batch, logs=None):
        self.seen.append(batch)


@pytest.fixture
def dry_run_of_two_steps(monkeypatch):
    """``KERAS_GEN_STEPS=2`` and the dry run that ``profiles.current()`` installs, removed afterwards."""
    monkeypatch.setenv(profiles.STEPS_VAR, "2")
    profiles.current()
    assert dry_run.installed_steps() == 2
    yield
    dry_run.uninstall()


def test_dry_run_caps_fit_at_n_batches_of_one_epoch(dry_run_of_two_steps, rng, capsys):
    model = models.PixelCNN(image_shape=(8, 8, 1), filters=4, num_layers=1)
    model.compile(optimizer="adam")
    x = random_binary_images(rng, 40, (8, 8, 1))
    count = _CountBatches()
    history = model.fit(x, None, 4, 5, validation_data=(x,), verbose=0, callbacks=[count])  # positional, as Keras
    assert count.seen == [0, 1] and len(history.history["nll"]) == 1 and "val_nll" in history.history
    assert f"{model.count_params():,} parameters" in capsys.readouterr().out
    assert np.all(np.isfinite(model.evaluate(x, batch_size=4, verbose=0)))


def test_dry_run_samples_the_last_row_only(dry_run_of_two_steps, rng):
    model = models.PixelCNN(image_shape=(5, 4, 1), filters=4, num_layers=1)
    samples = model.sample(3, seed=7, batch_size=3)
    assert samples.shape == (3, 5, 4, 1) and not samples[:, :-1].any()
    x = random_binary_images(rng, 3, (5, 4, 1))
    completed = model.complete(x, 2, seed=7, batch_size=3)
    np.testing.assert_array_equal(completed[:, :2], x[:, :2])
    assert not completed[:, 2:-1].any()  # the rows between stay blank; only the last one is drawn
    dry_run.uninstall()
    np.testing.assert_array_equal(samples[:, -1], model.complete(samples, 4, seed=7, batch_size=3)[:, -1])


def test_the_models_ignore_keras_gen_steps_without_the_dry_run(monkeypatch, rng):
    monkeypatch.setenv(profiles.STEPS_VAR, "1")
    dry_run.uninstall()
    model = models.PixelCNN(image_shape=(4, 4, 1), filters=4, num_layers=1)
    model.compile(optimizer="adam")
    count = _CountBatches()
    model.fit(random_binary_images(rng, 8, (4, 4, 1)), batch_size=4, epochs=2, verbose=0, callbacks=[count])
    assert count.seen == [0, 1, 0, 1]
    model.sample(2, seed=0)  # the whole image drawn: nothing to check but that it runs


def test_the_dry_run_installs_and_uninstalls(monkeypatch):
    fit = models.PixelCNN.fit
    with dry_run.installed(3):
        assert dry_run.installed_steps() == 3 and models.PixelCNN.fit is not fit
    assert dry_run.installed_steps() is None and models.PixelCNN.fit is fit
    monkeypatch.setenv(profiles.STEPS_VAR, "3")
    profiles.current()
    monkeypatch.delenv(profiles.STEPS_VAR)
    profiles.current()  # no dry run asked for: none installed
    assert dry_run.installed_steps() is None and models.PixelCNN.fit is fit
    with pytest.raises(ValueError, match="steps must be a positive number"):
        dry_run.install(0)


def test_flops_of_dense_and_convolutional_models():
    vae = models.VAE(image_shape=(28, 28, 1), latent_dim=8, hidden_units=(32,), seed=0)
    # every weight matrix is used once per image: 2 FLOPs per weight
    matrices = sum(int(np.prod(w.shape)) for w in vae.trainable_weights if len(w.shape) == 2)
    assert cost.count_flops(vae)["flops"] == pytest.approx(2 * matrices)
    pixelcnn = models.PixelCNN(image_shape=(8, 8, 1), filters=4, num_layers=2)
    kernels = sum(int(np.prod(w.shape)) for w in pixelcnn.trainable_weights if len(w.shape) == 4)
    # every kernel is applied at each of the 64 pixels (the masked entries are multiplied too)
    assert cost.count_flops(pixelcnn)["flops"] == pytest.approx(2 * 64 * kernels)


def test_loops_count_once_per_step():
    rnn = models.PixelRNN(image_shape=(6, 5, 1), layer_type="row_lstm", num_layers=2, units=3)
    counts = cost.count_flops(rnn)
    assert counts["steps"] == 2 * 6  # one step per row and layer
    kernels = sum(int(np.prod(w.shape)) for w in rnn.trainable_weights if len(w.shape) >= 2)
    assert counts["flops"] == pytest.approx(2 * 30 * kernels)
    draw = models.DRAW(T=3, read_n=2, write_n=2, z_dim=4, enc_units=8, dec_units=8, seed=0)
    assert cost.count_flops(draw)["steps"] == 3


def test_products_outside_layer_calls_count_too():
    # DRAW without attention multiplies by its encoder cell's kernel itself: every weight matrix is used at each
    # of the T steps, except the kernel's rows for the image x, whose product is computed once (DRAW._image_term)
    steps, pixels, units = 3, 36, 8
    draw = models.DRAW(
        image_shape=(6, 6, 1), attention=False, T=steps, z_dim=4, enc_units=units, dec_units=units, seed=0
    )
    matrices = sum(int(np.prod(w.shape)) for w in draw.trainable_weights if len(w.shape) == 2)
    image_rows = pixels * 4 * units
    assert cost.count_flops(draw)["flops"] == pytest.approx(2 * (steps * matrices - (steps - 1) * image_rows))


def test_estimate_and_its_printout(monkeypatch, capsys):
    model = models.PixelCNN(image_shape=(8, 8, 1), filters=4, num_layers=1)
    flops = cost.count_flops(model)["flops"]
    estimate = cost.estimate_seconds(
        model, train_images=1000, eval_images=100, batch_size=10, step_seconds=0.0, batch_seconds=0.0
    )
    assert estimate["seconds"] == pytest.approx((3 * 1000 + 100) * flops / cost.DEVICE_FLOPS)
    assert profiles.Profile("smoke").print_estimate(lambda: [estimate]) is None
    assert profiles.Profile("gpu").print_estimate(lambda: [estimate]) == pytest.approx(estimate["seconds"])
    assert "estimated time of the gpu profile" in capsys.readouterr().out
