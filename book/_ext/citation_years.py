"""Author-year citations that tell apart papers by the same authors in the same year.

sphinxcontrib-bibtex's ``author_year`` style writes the bare ``year`` field, so the two
van den Oord et al. papers of 2016 both render as "van den Oord et al. [2016]". This
extension gives such entries a letter, "2016a" and "2016b", as author-year bibliographies
do. Entries collide when their rendered author text is the same ("van den Oord et al.",
"Kingma and Welling", "Krizhevsky": one, two, or the first author and "et al.") and so is
their year; the letters follow the ``month`` field where given, then the order of the
entries in the .bib file (write the earlier paper first).

The letter is put into the parsed entries' ``year`` field once the .bib files are read, so
that every place that shows the year agrees: ``{cite:t}``, ``{cite:p}``, their tooltips and
the bibliography. The bibliography's labels are author-year too (formatting style
``author_year``, set as ``bibtex_default_style``), so an entry reads as it is cited:
"[van den Oord et al., 2016a]". Tables that the notebooks print by hand must use the same
letters; tests/test_book.py checks them against :func:`year_labels`.
"""

from collections import defaultdict

import pybtex.plugin
from pybtex.richtext import Text
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle

_MONTHS = {
    m: i for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)
}
_BASE_YEAR = "keras_gen_base_year"  # the year as written in the .bib file, kept beside the suffixed one


def _plain(latex):
    return Text.from_latex(latex).render_as("text").strip()


def author_text(entry):
    """The author part of an author-year citation, as sphinxcontrib-bibtex renders it."""
    persons = entry.persons.get("author") or entry.persons.get("editor") or []
    if not persons:
        return _plain(entry.fields.get("title", entry.key))
    last = [_plain(" ".join(p.prelast_names + p.last_names)) for p in persons]
    if len(last) == 1:
        return last[0]
    if len(last) == 2:
        return f"{last[0]} and {last[1]}"
    return f"{last[0]} et al."


def _base_year(entry):
    return entry.fields.get(_BASE_YEAR) or entry.fields.get("year", "")


def year_labels(entries):
    """``{key: year with its letter}`` for an ordered mapping of pybtex entries."""
    groups = defaultdict(list)
    for position, (key, entry) in enumerate(entries.items()):
        month = _MONTHS.get(str(entry.fields.get("month", "")).strip().lower()[:3], 0)
        groups[(author_text(entry), _base_year(entry))].append((month, position, key))
    labels = {}
    for (_, year), members in groups.items():
        members.sort()
        for letter, (_, _, key) in zip("abcdefghijklmnopqrstuvwxyz", members, strict=False):
            labels[key] = year + letter if len(members) > 1 and year else year
    return labels


def _add_year_letters(app):
    domain = app.env.get_domain("cite")
    entries = domain.bibdata.data.entries
    for key, year in year_labels(entries).items():
        fields = entries[key].fields
        fields.setdefault(_BASE_YEAR, fields.get("year", ""))
        if year:
            fields["year"] = year


class AuthorYearLabelStyle(BaseLabelStyle):
    """Bibliography labels that read as the citations do: "van den Oord et al., 2016a"."""

    def format_labels(self, sorted_entries):
        for entry in sorted_entries:
            yield f"{author_text(entry)}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearStyle(PlainStyle):
    default_label_style = AuthorYearLabelStyle
    default_sorting_style = "author_year_title"


def setup(app):
    pybtex.plugin.register_plugin("pybtex.style.labels", "author_year", AuthorYearLabelStyle)
    pybtex.plugin.register_plugin("pybtex.style.formatting", "author_year", AuthorYearStyle)
    # after sphinxcontrib-bibtex has read the .bib files (its handler runs at the default 500)
    app.connect("builder-inited", _add_year_letters, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
