"""What the book's trained models are: a :class:`Recipe` per checkpoint, and the studies.

A recipe names the model (the class and arguments a chapter uses), the data and the
budget; ``python -m keras_gen.train NAME`` (:mod:`keras_gen.train`) makes it. A
:class:`Study` is a question a chapter answers by comparing several runs trained alike
(the same data, schedule and budget): its runs are named ``STUDY/RUN`` and made by the
same command; their metadata ships in ``keras_gen/studies/STUDY/`` (weights only for
the runs a chapter draws samples from) and :func:`keras_gen.pretrained.study` loads them.

Example:

    from keras_gen import recipes
    recipes.RECIPES["pixelcnn"].epochs                        # 30
    recipes.find("pixelrnn_depth/layers_4").config["num_layers"]  # 4
    recipes.command("pixelrnn_depth/layers_4")                # 'python -m keras_gen.train pixelrnn_depth/layers_4'
"""

import dataclasses
import math
import os

from keras_gen import datasets

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
CHECKPOINT_DIR = os.path.join(PACKAGE_DIR, "checkpoints")
STUDY_DIR = os.path.join(PACKAGE_DIR, "studies")


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How one checkpoint is made.

    Args:
        model: class name in ``keras_gen.models``.
        config: the constructor's keyword arguments.
        data: ``"mnist_dynamic"`` (binarised MNIST, fresh pixels every epoch; the test
            set is ``load_mnist("fixed").x_test``) or ``"color_images"`` (8-bit colour:
            CIFAR-10 where it can be had, else the offline photograph crops; the
            metadata names which).
        epochs, batch_size: the budget.
        train_images: train on the first ``train_images`` training images only (``None``: all).
        learning_rate, final_learning_rate: Adam's rate, cosine-decayed from the first to
            the second over the whole run, or over its end (``hold_fraction``).
        hold_fraction: the share of the run's steps at ``learning_rate`` before the cosine
            decay starts (0: decay from the first step).
        clipnorm: optional clipping of the gradient's global norm (Adam's ``global_clipnorm``).
        test_samples: ``None`` for an exact likelihood, else the k of the importance-weighted
            bound reported as ``test_nll``.
        labels: the model is class-conditional: trained and scored with the images' labels.
        monitor_attention: log DRAW's attention health after every epoch (``keras_gen.attention_health``).
        chapter: the notebook that shows it.
    """

    model: str
    config: dict
    data: str
    epochs: int
    batch_size: int
    learning_rate: float
    final_learning_rate: float
    chapter: str
    clipnorm: float | None = None
    test_samples: int | None = None
    labels: bool = False
    hold_fraction: float = 0.0
    monitor_attention: bool = False
    train_images: int | None = None


def draw_recipe(attention):
    """Chapter 2's DRAW (256 units, 100-d codes), with attention (T = 32, 5×5 read and write) or without (T = 16).

    The attentive network gets twice the steps of the other, which reads and writes all 784
    pixels: that sizes the two for about the same FLOPs per image, not the same training time
    (chapter 2 counts the FLOPs and times a step of each; each checkpoint records its train_seconds).
    """
    return Recipe(
        model="DRAW",
        config={
            "image_shape": (28, 28, 1),
            "T": 32 if attention else 16,
            "read_n": 5,
            "write_n": 5,
            "z_dim": 100,
            "enc_units": 256,
            "dec_units": 256,
            "attention": attention,
            "seed": 0,
        },
        data="mnist_dynamic",
        epochs=20,
        batch_size=100,
        learning_rate=1e-3,
        final_learning_rate=1e-4,
        clipnorm=10.0,
        test_samples=100,
        chapter="notebooks/02_draw.ipynb",
    )


def draw_t64_recipe(attention):
    """Chapter 2's DRAW in the paper's MNIST configuration (Gregor et al. 2015, sec. 4.1): T = 64 for both,
    2×2 read and 5×5 write with attention, 256-unit LSTMs, 100-d codes.

    The attention policy forms slowly (``../shared`` diagnosis of the T = 32 run: still a fixed,
    digit-independent schedule after 20 epochs), so the step size stays at 1e-3 for three
    quarters of the run and is annealed only over the last quarter; both networks get the
    same epochs.
    """
    base = draw_recipe(attention)
    return dataclasses.replace(
        base,
        config={**base.config, "T": 64, "read_n": 2, "write_n": 5},
        epochs=120,
        final_learning_rate=1e-5,
        hold_fraction=0.75,
        monitor_attention=attention,
    )


def pixelrnn_recipe(layer_type):
    """The paper's MNIST PixelRNN (7 layers, h = 16, residual and skip connections) of chapter 4 or 5."""
    return Recipe(
        model="PixelRNN",
        config={
            "image_shape": (28, 28, 1),
            "layer_type": layer_type,
            "num_layers": 7,
            "units": 16,
            "skip": True,
            "output": "bernoulli",
        },
        data="mnist_dynamic",
        epochs=20,
        batch_size=64,
        learning_rate=1e-3,
        final_learning_rate=5e-5,
        chapter="notebooks/04_row_lstm.ipynb" if layer_type == "row_lstm" else "notebooks/05_diagonal_bilstm.ipynb",
    )


def gated_pixelcnn_recipe(conditional):
    """Chapter 7's MNIST Gated PixelCNN (32 maps, a 7×7 block and 7 of 3×3), unconditional or given the digit."""
    return Recipe(
        model="GatedPixelCNN",
        config={
            "image_shape": (28, 28, 1),
            "filters": 32,
            "num_layers": 7,
            "output": "bernoulli",
            **({"num_classes": 10} if conditional else {}),
        },
        data="mnist_dynamic",
        epochs=12,
        batch_size=64,
        learning_rate=1e-3,
        final_learning_rate=5e-5,
        labels=conditional,
        chapter="notebooks/07_gated_pixelcnn.ipynb",
    )


RECIPES = {
    "vae": Recipe(
        model="VAE",
        config={"image_shape": (28, 28, 1), "latent_dim": 50, "hidden_units": (500, 500), "seed": 0},
        data="mnist_dynamic",
        epochs=400,
        batch_size=100,
        learning_rate=1e-3,
        final_learning_rate=1e-4,
        test_samples=1000,
        chapter="notebooks/01_vae.ipynb",
    ),
    "vae_2d": Recipe(
        model="VAE",
        config={"image_shape": (28, 28, 1), "latent_dim": 2, "hidden_units": (500, 500), "seed": 0},
        data="mnist_dynamic",
        epochs=100,
        batch_size=100,
        learning_rate=1e-3,
        final_learning_rate=1e-4,
        test_samples=1000,
        chapter="notebooks/01_vae.ipynb",
    ),
    "pixelcnn": Recipe(
        model="PixelCNN",
        config={"image_shape": (28, 28, 1), "filters": 64, "num_layers": 6, "output": "bernoulli"},
        data="mnist_dynamic",
        epochs=30,
        batch_size=64,
        learning_rate=1e-3,
        final_learning_rate=5e-5,
        chapter="notebooks/03_pixelcnn.ipynb",
    ),
    # deep enough to see a whole digit above each pixel: a 7×7 input layer and 15 blocks of 3×3 reach 18 rows up,
    # against the 9 rows of `pixelcnn`, whose digits are about 20 rows tall
    "pixelcnn_deep": Recipe(
        model="PixelCNN",
        config={"image_shape": (28, 28, 1), "filters": 64, "num_layers": 15, "output": "bernoulli"},
        data="mnist_dynamic",
        epochs=20,
        batch_size=64,
        learning_rate=1e-3,
        final_learning_rate=5e-5,
        chapter="notebooks/03_pixelcnn.ipynb",
    ),
    # the two DRAW networks of chapter 2 differ only in attention: same steps, units, data and budget
    "draw": draw_recipe(attention=True),
    "draw_no_attention": draw_recipe(attention=False),
    # the paper's configuration, trained for as many epochs as attention needs (resumable over sittings)
    "draw_t64": draw_t64_recipe(attention=True),
    "draw_no_attention_t64": draw_t64_recipe(attention=False),
    # the two PixelRNNs of chapters 4 and 5 differ only in their LSTM layer
    "row_lstm": pixelrnn_recipe("row_lstm"),
    "diagonal_bilstm": pixelrnn_recipe("diagonal_bilstm"),
    # free bits keep the code in use; chapter 10 also trains the network on the plain ELBO, whose code may collapse
    "pixelvae": Recipe(
        model="PixelVAE",
        config={
            "image_shape": (28, 28, 1),
            "latent_dim": 32,
            "hidden_units": (256,),
            "filters": 32,
            "num_layers": 2,
            "free_nats": 8.0,
            "seed": 0,
        },
        data="mnist_dynamic",
        epochs=10,
        batch_size=64,
        learning_rate=1e-3,
        final_learning_rate=5e-5,
        test_samples=10,
        chapter="notebooks/10_pixelvae.ipynb",
    ),
    # the two Gated PixelCNNs of chapter 7 differ only in the digit label (and see the same digits)
    "gated_pixelcnn": gated_pixelcnn_recipe(conditional=False),
    "gated_pixelcnn_conditional": gated_pixelcnn_recipe(conditional=True),
    # two stages of the 4-layer Row LSTM network of chapter 6, the small image every second pixel
    "multiscale_pixelrnn": Recipe(
        model="MultiScalePixelRNN",
        config={
            "image_shape": (28, 28, 1),
            "factor": 2,
            "layer_type": "row_lstm",
            "num_layers": 4,
            "units": 16,
            "skip": True,
            "output": "bernoulli",
        },
        data="mnist_dynamic",
        epochs=10,
        batch_size=64,
        learning_rate=1e-3,
        final_learning_rate=5e-5,
        chapter="notebooks/06_multiscale_pixelrnn.ipynb",
    ),
    # chapter 8's network at the size TensorFlow Probability's PixelCNN is benchmarked at (benchmarks/)
    "pixelcnn_plus_plus": Recipe(
        model="PixelCNNPlusPlus",
        config={
            "image_shape": (32, 32, 3),
            "filters": 32,
            "blocks_per_stage": 2,
            "num_downsamplings": 2,
            "num_components": 10,
            "dropout": 0.5,
            "seed": 0,
        },
        data="color_images",
        epochs=10,
        batch_size=16,
        learning_rate=1e-3,
        final_learning_rate=5e-5,
        chapter="notebooks/08_pixelcnn_plus_plus.ipynb",
    ),
}


@dataclasses.dataclass(frozen=True)
class Study:
    """A question a chapter answers by comparing runs trained alike.

    Args:
        chapter: the notebook that shows it.
        question: the question, in one sentence.
        runs: run name → the :class:`Recipe` that makes it, or the name of a shipped
            checkpoint (or ``"STUDY/RUN"``) that answers for it with the same budget.
        weights: the runs whose weights ship (a chapter draws samples from them).
    """

    chapter: str
    question: str
    runs: dict
    weights: tuple = ()


def _variant(recipe, **config):
    """``recipe`` with some of its model's arguments changed."""
    return dataclasses.replace(recipe, config={**recipe.config, **config})


def _row_lstm_study_recipe(**config):
    """The Row LSTMs of chapter 5's studies: h = 16, 12 layers unless ``config`` says otherwise, two epochs of all
    60,000 digits (about 0.4-1.2 h each on one core)."""
    base = dataclasses.replace(pixelrnn_recipe("row_lstm"), epochs=2, chapter="notebooks/05_diagonal_bilstm.ipynb")
    return _variant(base, **{"num_layers": 12, **config})


def _colour_crop_recipe(model, config):
    """Chapter 8's comparisons: 16×16 colour crops (a quarter of the checkpoint's pixels), 5 epochs."""
    return dataclasses.replace(
        RECIPES["pixelcnn_plus_plus"],
        model=model,
        config={"image_shape": (16, 16, 3), **config},
        data="color_images_16",
        epochs=5,
    )


# the PixelCNN++ checkpoint's network, for crops of another size
PIXELCNN_PLUS_PLUS_NETWORK = {k: v for k, v in RECIPES["pixelcnn_plus_plus"].config.items() if k != "image_shape"}


def _pixelvae_study_recipe(**config):
    """Chapter 10's decoder-depth sweep: the checkpoint's PixelVAE on the plain ELBO, 3 epochs."""
    return dataclasses.replace(_variant(RECIPES["pixelvae"], free_nats=0.0, **config), epochs=3)


def _gated_decoder_alone(num_layers):
    """The PixelVAE decoder's Gated PixelCNN without the latent code (the same maps and kernels)."""
    base = RECIPES["pixelvae"]
    return dataclasses.replace(
        base,
        model="GatedPixelCNN",
        config={
            "image_shape": (28, 28, 1),
            "filters": base.config["filters"],
            "num_layers": num_layers,
            "input_kernel_size": 5,
            "output": "bernoulli",
        },
        epochs=3,
        test_samples=None,
    )


DECODER_DEPTHS = (0, 1, 2, 4)  # gated 3×3 blocks after the 5×5 one

STUDIES = {
    "pixelrnn_connections": Study(
        chapter="notebooks/05_diagonal_bilstm.ipynb",
        question="Do residual and skip connections help a 12-layer Row LSTM (PixelRNN, Table 2)?",
        runs={
            "plain": _row_lstm_study_recipe(residual=False, skip=False),
            "residual": _row_lstm_study_recipe(residual=True, skip=False),
            "skip": _row_lstm_study_recipe(residual=False, skip=True),
            "residual_skip": _row_lstm_study_recipe(residual=True, skip=True),
        },
    ),
    "pixelrnn_depth": Study(
        chapter="notebooks/05_diagonal_bilstm.ipynb",
        question="How does a Row LSTM's likelihood improve with its number of layers (PixelRNN, Table 3)?",
        runs={
            **{f"layers_{n}": _row_lstm_study_recipe(num_layers=n) for n in (1, 2, 4, 7)},
            "layers_12": "pixelrnn_connections/residual_skip",
        },
    ),
    "multiscale": Study(
        chapter="notebooks/06_multiscale_pixelrnn.ipynb",
        question="Does a two-scale PixelRNN beat a single-scale one with about as many parameters, at equal epochs?",
        runs={
            "multiscale": dataclasses.replace(RECIPES["multiscale_pixelrnn"], epochs=3),
            # 11 Row LSTM layers: 122,369 parameters against the two-scale network's 117,346
            "single_scale": dataclasses.replace(
                pixelrnn_recipe("row_lstm"),
                config={**pixelrnn_recipe("row_lstm").config, "num_layers": 11},
                epochs=3,
                chapter="notebooks/06_multiscale_pixelrnn.ipynb",
            ),
        },
    ),
    "gating": Study(
        chapter="notebooks/07_gated_pixelcnn.ipynb",
        question="Does a Gated PixelCNN beat a PixelCNN of the same depth and about as many parameters?",
        runs={
            "gated": dataclasses.replace(gated_pixelcnn_recipe(conditional=False), epochs=3),
            # 80 maps: 157,281 parameters against the gated network's 160,577
            "plain": dataclasses.replace(
                gated_pixelcnn_recipe(conditional=False),
                model="PixelCNN",
                config={"image_shape": (28, 28, 1), "filters": 80, "num_layers": 7, "output": "bernoulli"},
                epochs=3,
            ),
        },
    ),
    "label": Study(
        chapter="notebooks/07_gated_pixelcnn.ipynb",
        question="How many nats is the digit's label worth to a Gated PixelCNN, against the bound log 10?",
        runs={"unconditional": "gated_pixelcnn", "conditional": "gated_pixelcnn_conditional"},
    ),
    "output_heads": Study(
        chapter="notebooks/08_pixelcnn_plus_plus.ipynb",
        question="Does one network learn faster with a discretised logistic mixture than with a 256-way softmax?",
        runs={
            "softmax": _colour_crop_recipe("PixelCNN", {"filters": 48, "num_layers": 4, "output": "categorical"}),
            "mixture": _colour_crop_recipe("PixelCNN", {"filters": 48, "num_layers": 4, "output": "logistic_mixture"}),
        },
        weights=("softmax",),  # chapter 8 draws one pixel's three softmaxes from it
    ),
    "pixelcnn_plus_plus_ablations": Study(
        chapter="notebooks/08_pixelcnn_plus_plus.ipynb",
        question="What do dropout and the short-cut connections each add to PixelCNN++?",
        runs={
            "baseline": _colour_crop_recipe("PixelCNNPlusPlus", PIXELCNN_PLUS_PLUS_NETWORK),
            "no_dropout": _colour_crop_recipe("PixelCNNPlusPlus", {**PIXELCNN_PLUS_PLUS_NETWORK, "dropout": 0.0}),
            "no_shortcuts": _colour_crop_recipe("PixelCNNPlusPlus", {**PIXELCNN_PLUS_PLUS_NETWORK, "shortcuts": False}),
        },
    ),
    "pixelvae_objective": Study(
        chapter="notebooks/10_pixelvae.ipynb",
        question="Do free bits or a KL warm-up keep PixelVAE's code in use better than the plain ELBO does?",
        runs={
            "free_bits": "pixelvae",
            "plain_elbo": _variant(RECIPES["pixelvae"], free_nats=0.0),
            # the KL's weight rises from 0 to 1 over the first 3 of the 10 epochs (938 batches of 64 each)
            "kl_warmup": _variant(RECIPES["pixelvae"], free_nats=0.0, kl_warmup_steps=3 * math.ceil(60_000 / 64)),
        },
    ),
    "pixelvae_depth": Study(
        chapter="notebooks/10_pixelvae.ipynb",
        question="How many autoregressive layers does PixelVAE need, against its decoder alone (PixelVAE, Figure 4)?",
        runs={
            **{f"pixelvae_{d}": _pixelvae_study_recipe(num_layers=d) for d in DECODER_DEPTHS},
            **{f"decoder_alone_{d}": _gated_decoder_alone(d) for d in DECODER_DEPTHS},
        },
    ),
    "hierarchical_pixelvae": Study(
        chapter="notebooks/10_pixelvae.ipynb",
        question="What do the two levels of a hierarchical PixelVAE each carry, trained until its samples are digits?",
        runs={
            "hierarchical": dataclasses.replace(
                RECIPES["pixelvae"], model="HierarchicalPixelVAE", config={**RECIPES["pixelvae"].config, "top_dim": 8}
            )
        },
        weights=("hierarchical",),
    ),
}


def command(name):
    """The shell command that makes checkpoint or study run ``name``."""
    return f"python -m keras_gen.train {name}"


def study_runs():
    """Every run a study trains itself, as ``"STUDY/RUN"`` names (runs that name a checkpoint are not among them)."""
    return [
        f"{study}/{run}"
        for study, spec in STUDIES.items()
        for run, recipe in spec.runs.items()
        if isinstance(recipe, Recipe)
    ]


def find(name):
    """The recipe of checkpoint ``name`` or study run ``"STUDY/RUN"``; a clear ``ValueError`` for any other name."""
    if name in RECIPES:
        return RECIPES[name]
    study, _, run = name.partition("/")
    if study in STUDIES and run in STUDIES[study].runs:
        recipe = STUDIES[study].runs[run]
        if isinstance(recipe, Recipe):
            return recipe
        raise ValueError(f"study run {name!r} is {recipe!r}, trained by `{command(recipe)}`.")
    raise ValueError(
        f"no recipe named {name!r}; the checkpoints are {', '.join(RECIPES)}; the studies' runs are "
        f"{', '.join(study_runs())}."
    )


def location(name):
    """Where ``name``'s files live: ``(directory, file stem)``, the directory ``keras_gen/checkpoints`` or
    ``keras_gen/studies/STUDY``."""
    study, slash, run = name.partition("/")
    return (os.path.join(STUDY_DIR, study), run) if slash else (CHECKPOINT_DIR, name)


def ships_weights(name):
    """Whether ``name``'s weights ship with the package: every checkpoint's, and a study's listed runs'."""
    study, slash, run = name.partition("/")
    return not slash or run in STUDIES[study].weights


DATA = {
    "mnist_dynamic": lambda: datasets.load_mnist("dynamic"),
    "color_images": datasets.load_color_images,
    "color_images_16": lambda: datasets.load_color_images(size=16),
}


def load_data(recipe):
    """The recipe's ``ImageData``: training images (the first ``train_images``), labels and the whole test set."""
    if recipe.data not in DATA:
        raise ValueError(f"unknown data {recipe.data!r}; expected one of {sorted(DATA)}.")
    return DATA[recipe.data]().subset(recipe.train_images)
