"""Output heads are serialisable objects: ``output=`` takes a name, an instance or a config, and round-trips."""

import keras
import numpy as np
import pytest

from keras_gen import heads
from keras_gen.models import GatedPixelCNN, PixelCNN, PixelCNNPlusPlus


def _plus_plus(**kwargs):
    return PixelCNNPlusPlus(
        image_shape=(4, 4, 3), filters=4, blocks_per_stage=1, num_downsamplings=1, name="pp", **kwargs
    )


def test_get_takes_a_name_an_instance_or_a_config():
    assert isinstance(heads.get("bernoulli"), heads.BernoulliHead)
    head = heads.LogisticMixtureHead(3)
    assert heads.get(head) is head
    assert heads.serialize(head) == {"name": "logistic_mixture", "config": {"num_components": 3}}
    assert heads.get(heads.serialize(head)).num_components == 3
    assert heads.serialize(heads.get("logistic_mixture")) == "logistic_mixture"  # default options: the name
    assert heads.get("logistic_mixture", num_components=5).num_components == 5
    with pytest.raises(ValueError, match=r"disagree with \{'num_components': 5\}"):
        heads.get(head, num_components=5)
    with pytest.raises(ValueError, match="output must be one of"):
        heads.get({"name": "nope"})
    with pytest.raises(ValueError, match="a head's name .* an OutputHead or a dict"):
        heads.get(3)


def test_models_take_and_save_any_form_of_head(tmp_path):
    by_name = PixelCNN(image_shape=(5, 5, 1), filters=4, num_layers=1, output="bernoulli")
    by_instance = PixelCNN(image_shape=(5, 5, 1), filters=4, num_layers=1, output=heads.BernoulliHead())
    by_config = PixelCNN(image_shape=(5, 5, 1), filters=4, num_layers=1, output={"name": "bernoulli"})
    assert by_name.get_config()["output"] == by_instance.get_config()["output"] == by_config.get_config()["output"]
    mixture = GatedPixelCNN(image_shape=(4, 4, 3), filters=6, num_layers=1, output=heads.LogisticMixtureHead(2))
    assert mixture.get_config()["output"] == {"name": "logistic_mixture", "config": {"num_components": 2}}
    restored = GatedPixelCNN.from_config(mixture.get_config())
    assert restored.head.num_components == 2 and not restored.head.per_channel
    path = str(tmp_path / "mixture.keras")
    mixture.save(path)
    x = np.random.default_rng(0).integers(0, 256, (2, 4, 4, 3))
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(keras.saving.load_model(path)(x)), keras.ops.convert_to_numpy(mixture(x))
    )


def test_pixelcnn_plus_plus_takes_output_and_keeps_its_config():
    """``output=`` was refused with a TypeError (given twice); the config kept no head."""
    by_count = _plus_plus(num_components=2)
    by_head = _plus_plus(output=heads.LogisticMixtureHead(2))
    by_name = _plus_plus(output="logistic_mixture", num_components=2)
    assert by_count.get_config() == by_head.get_config() == by_name.get_config()
    assert by_count.get_config()["num_components"] == 2
    assert PixelCNNPlusPlus.from_config(by_head.get_config()).num_components == 2
    assert _plus_plus().num_components == 10 and _plus_plus().get_config()["output"] == "logistic_mixture"
    with pytest.raises(ValueError, match=r"whole pixel at once \(per_channel=False\).*got output='categorical'"):
        _plus_plus(output="categorical")
    with pytest.raises(ValueError, match="disagree"):
        _plus_plus(output=heads.LogisticMixtureHead(3), num_components=2)


def test_a_shipped_config_without_output_still_loads():
    """The checkpoints' PixelCNN++ config has ``num_components`` and no ``output``."""
    config = _plus_plus(num_components=2).get_config()
    del config["output"]
    assert PixelCNNPlusPlus.from_config(config).head.num_components == 2
