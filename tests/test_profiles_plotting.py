"""Run profiles and the plotting helpers."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from keras_gen.book import plotting, profiles  # noqa: E402


def test_profile_from_environment(monkeypatch):
    monkeypatch.setenv(profiles.ENV_VAR, "smoke")
    profile = profiles.current()
    assert profile.name == "smoke" and profile.choose(smoke=1, cpu=2, full=3) == 1
    monkeypatch.setenv(profiles.ENV_VAR, "FULL")
    assert profiles.current().choose(smoke=1, cpu=2, full=3) == 3


@pytest.mark.parametrize(
    # one accelerator at most: with two, current() would set a data-parallel distribution for the whole session
    "devices, expected",
    [(["cpu:0"], "cpu"), (["CPU:0", "gpu:0"], "gpu"), (["cpu:0", "tpu:0"], "gpu")],
)
def test_default_profile_follows_the_hardware(monkeypatch, devices, expected):
    monkeypatch.delenv(profiles.ENV_VAR, raising=False)
    monkeypatch.setattr(profiles.keras.distribution, "list_devices", lambda device_type=None: devices)
    assert profiles.current().name == expected


@pytest.mark.parametrize(
    "name, train, loads",
    [("cpu", None, True), ("cpu", "1", False), ("cpu", "0", True), ("smoke", None, False), ("full", None, False)],
)
def test_only_the_cpu_profile_loads_checkpoints_unless_asked_to_train(monkeypatch, name, train, loads):
    monkeypatch.setenv(profiles.ENV_VAR, name)
    if train is None:
        monkeypatch.delenv(profiles.TRAIN_VAR, raising=False)
    else:
        monkeypatch.setenv(profiles.TRAIN_VAR, train)
    assert profiles.current().loads_checkpoints is loads


def test_unknown_profile_is_rejected(monkeypatch):
    monkeypatch.setenv(profiles.ENV_VAR, "huge")
    with pytest.raises(ValueError, match="KERAS_GEN_PROFILE must be one of"):
        profiles.current()


def test_tile_lays_images_out_on_a_grid():
    images = np.stack([np.full((2, 3, 1), k / 5) for k in range(5)])
    grid = plotting.tile(images, ncols=3, pad=1)
    assert grid.shape == (2 * 3 + 1, 3 * 4 + 1)
    assert grid[1, 1] == 0.0 and grid[1, 5] == pytest.approx(0.2) and grid[4, 5] == pytest.approx(0.8)
    assert grid[4, 9] == 1.0  # the empty sixth cell stays at the padding value
    colour = plotting.tile(np.full((2, 4, 4, 3), 255, dtype=np.uint8))
    assert colour.shape[-1] == 3 and colour.max() == 1.0


def test_image_grid_and_history_plots():
    ax = plotting.image_grid(np.zeros((4, 5, 5, 1)), title="zeros")
    assert ax.get_title() == "zeros"
    ax = plotting.plot_history({"nll": [3.0, 2.0], "val_nll": [3.5, 2.5]})
    assert len(ax.get_lines()) == 2
    with pytest.raises(ValueError, match="no 'kl'"):
        plotting.plot_history({"nll": [1.0]}, keys=("kl",))


def test_bad_images_to_plot():
    with pytest.raises(ValueError, match=r"\(N, H, W, 1\)"):
        plotting.tile(np.zeros((2, 4, 4, 2)))


def test_save_gif_writes_every_frame(tmp_path):
    frames = [np.full((4, 4), k / 3) for k in range(4)]
    path = plotting.save_gif(frames, str(tmp_path / "a.gif"), scale=2)
    with Image.open(path) as gif:
        assert gif.n_frames == 4 and gif.size == (8, 8)
    with pytest.raises(ValueError, match="at least one frame"):
        plotting.save_gif([], str(tmp_path / "b.gif"))
