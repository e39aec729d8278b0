"""The gpu profile, the dry run (KERAS_GEN_STEPS) and the FLOP count behind the time estimates."""

import numpy as np
import pytest
from conftest import random_binary_images

from keras_gen import cost, models, profiles


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


def test_dry_run_caps_fit_at_n_batches_of_one_epoch(monkeypatch, rng, capsys):
    monkeypatch.setenv(profiles.STEPS_VAR, "2")
    model = models.PixelCNN(image_shape=(8, 8, 1), filters=4, num_layers=1)
    model.compile(optimizer="adam")
    x = random_binary_images(rng, 40, (8, 8, 1))
    seen = []

    class Count(__import__("keras").callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(batch)

    history = model.fit(x, batch_size=4, epochs=5, validation_data=(x,), verbose=0, callbacks=[Count()])
    assert seen == [0, 1] and len(history.history["nll"]) == 1 and "val_nll" in history.history
    assert f"{model.count_params():,} parameters" in capsys.readouterr().out
    assert np.all(np.isfinite(model.evaluate(x, batch_size=4, verbose=0)))


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
