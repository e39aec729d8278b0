"""The book's tooling, apart from the library: what the chapters need beside the models.

``import keras_gen`` does not load this package, and the library core (``layers``, ``ops``,
``models``, ``heads``, ``datasets``, ``pretrained``, ``recipes``, ``train``) never imports it.
Each module is imported where a chapter uses it (``from keras_gen.book import plotting``):

* :mod:`keras_gen.book.profiles`: the run profiles (``KERAS_GEN_PROFILE``) and their budgets;
* :mod:`keras_gen.book.dry_run`: the dry run (``KERAS_GEN_STEPS``), installed by the profile;
* :mod:`keras_gen.book.cost`: FLOPs counted from a model and the chapters' time estimates;
* :mod:`keras_gen.book.timing`: wall-clock timings of the samplers;
* :mod:`keras_gen.book.studies`: a shipped study's table, paired verdict and curves;
* :mod:`keras_gen.book.plotting`, :mod:`keras_gen.book.attention_plots`: figures (matplotlib, Pillow);
* :mod:`keras_gen.book.progress`: a progress bar over epochs (tqdm).

The figures and the progress bar need the ``book`` extra (``pip install keras_gen[book]``).
"""
