"""The ``Example::`` section of every public layer's and model's docstring runs as written."""

import inspect
import textwrap

import pytest

from keras_gen import layers, models

ABSTRACT = {"GenerativeModel", "LatentVariableModel", "GaussianLatentModel", "AutoregressiveModel"}
PUBLIC = [getattr(layers, name) for name in layers.__all__] + [
    getattr(models, name) for name in models.__all__ if name not in ABSTRACT
]


def example(cls):
    """The code of the class docstring's ``Example::`` block, dedented ('' if there is none)."""
    doc = inspect.getdoc(cls) or ""
    if "Example::" not in doc:
        return ""
    lines = []
    for line in doc.split("Example::", 1)[1].split("\n")[1:]:
        if line and not line.startswith("    "):
            break
        lines.append(line)
    return textwrap.dedent("\n".join(lines)).strip()


@pytest.mark.parametrize("cls", PUBLIC, ids=[cls.__name__ for cls in PUBLIC])
def test_docstring_example_runs(cls):
    code = example(cls)
    assert code, f"{cls.__name__} has no Example:: section"
    exec(compile(code, f"<{cls.__name__} example>", "exec"), {})
