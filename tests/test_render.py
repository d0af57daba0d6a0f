"""Terminal tables: every table the command line prints fits the width without breaking a word.

Each test prints through the command line's own printing functions onto a recording console of
a given width, then reads the text back: no line is longer than the width, every word of the
input is in the output whole (or its loss name's abbreviation is), no fragment of a word is, and
a table that abbreviated a name says so in the line below it.
"""

from __future__ import annotations

import io
import re
import warnings

import pytest
from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

import losslab
from losslab.analysis import compare
from losslab.cli import _catalog, _commands, _render
from losslab.cli._render import FittedTable, abbreviate, abbreviations, legend, set_wide, table
from losslab.planning import default_settings
from losslab.problems import get_problem
from losslab.registry import recommend
from losslab.replicate import replicate

#: Splits output text into tokens: whitespace and rich's box-drawing characters.
SEPARATORS = re.compile(r"[\s\u2500-\u257f]+")


class Recorder(Console):
    """A console of a given width that keeps what was printed, as objects and as text."""

    def __init__(self, width: int) -> None:
        super().__init__(record=True, width=width, file=io.StringIO(), color_system=None, highlight=False)
        self.printed: list[object] = []

    def print(self, *objects, **kwargs) -> None:
        self.printed += objects
        super().print(*objects, **kwargs)


@pytest.fixture
def record(monkeypatch):
    """``record(width)``: a Recorder that the command line's printing functions print to."""

    def make(width: int = 100) -> Recorder:
        recorder = Recorder(width)
        monkeypatch.setattr(_commands, "console", recorder)
        monkeypatch.setattr(_catalog, "console", recorder)
        monkeypatch.setattr(_render, "console", recorder)
        return recorder

    return make


@pytest.fixture(scope="module")
def replication():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return replicate(repeats=1, epochs=2)


@pytest.fixture(scope="module")
def comparison():
    regression = get_problem("regression")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = losslab.train(regression, ["mean_squared_error", "mean_squared_logarithmic_error", "mean_absolute_error",
                                           "mean_absolute_percentage_error"], seeds=[0, 1, 2],
                              settings=default_settings(regression).updated(epochs=3))
        return study, compare(study)


def words(printed: object) -> list[str]:
    """The words a printed object was given: a table's title, header and cells, or a line's text."""
    if isinstance(printed, FittedTable):
        texts = [printed.title, *printed.columns, *(cell for row in printed.rows for cell in row)]
    else:
        texts = [Text.from_markup(str(printed)).plain]
    return [word for text in texts for word in text.split()]


def assert_fits_without_breaking_words(recorder: Recorder, width: int) -> str:
    """The checks of this module on everything ``recorder`` printed; returns the text.

    Every table's lines fit ``width``; lines of prose that the command line prints soft-wrapped
    (verdicts, notes: one line each, for grep) are left to the terminal and only checked for
    whole words."""
    out = recorder.export_text()
    shown = set(SEPARATORS.split(out))
    given, allowed = set(), {"(continued)"}
    for printed in recorder.printed:
        given.update(words(printed))
        if isinstance(printed, FittedTable):
            alone = Recorder(width)
            alone.print(printed)
            too_long = [line for line in alone.export_text().splitlines() if cell_len(line) > width]
            assert not too_long, f"{len(too_long)} lines longer than {width}:\n" + "\n".join(too_long)
            used = printed.layout(width).used
            if used:  # a table that abbreviated a name has the legend under it
                assert " ".join(legend(used).split()) in " ".join(out.split()), printed.title
                allowed.update(legend(used).split())
    for word in given:
        assert word in shown or abbreviate(word) in shown, f"{word!r} is not in the output whole"
    allowed.update(given, (abbreviate(word) for word in given))
    fragments = shown - allowed - {""}
    assert not fragments, f"pieces of words in the output: {sorted(fragments)}"
    return out


# ------------------------------------------------------------------------------ every table kind


@pytest.mark.parametrize("width", [100, 80])
def test_losses_and_problems_fit(record, width: int) -> None:
    recorder = record(width)
    _catalog.show_losses(False)
    _catalog.show_problems(False)
    out = assert_fits_without_breaking_words(recorder, width)
    assert re.search(r"(?<!\w)regression(?!\w)", out) and "regres " not in out and "\nsion" not in out


def test_losses_at_80_columns_keep_regression_whole(record) -> None:
    recorder = record(80)
    _catalog.show_losses(False)
    out = assert_fits_without_breaking_words(recorder, 80)
    for line in out.splitlines():
        if "multiclass" in line or "regression" in line:  # the kind column holds whole words
            assert re.search(r"│ (regression|multiclass|binary) +│", line), line
    assert "regres" not in out.replace("regression", "")


@pytest.mark.parametrize("width", [100, 80])
def test_the_replication_tables_fit(record, replication, width: int) -> None:
    recorder = record(width)
    _commands._print_replication(replication)
    out = assert_fits_without_breaking_words(recorder, width)
    assert "mean_squar\n" not in out and "Abbreviations:" in out  # narrow: long loss names abbreviated
    for key in ("4.1", "4.9", "ext-1b"):
        assert key in out


@pytest.mark.parametrize("width", [100, 80])
def test_the_comparison_tables_fit(record, comparison, width: int) -> None:
    recorder = record(width)
    _commands.print_comparison(*comparison)
    assert_fits_without_breaking_words(recorder, width)


def test_the_recommendations_table_fits(record) -> None:
    recorder = record(100)
    recorder.print(table("Alternatives worth trying", ["loss", "when"], recommend("multiclass").alternatives))
    out = assert_fits_without_breaking_words(recorder, 100)
    assert "sparse_categorical_crossentropy" in out and "Abbreviations" not in out  # it fits whole: no need


# ------------------------------------------------------------------------------ the rules


def test_abbreviations_are_the_registrys_short_aliases() -> None:
    assert abbreviations() == {
        "mean_squared_error": "mse", "mean_squared_logarithmic_error": "msle", "mean_absolute_error": "mae",
        "mean_absolute_percentage_error": "mape", "binary_crossentropy": "bce", "categorical_crossentropy": "cce",
        "sparse_categorical_crossentropy": "scce", "kl_divergence": "kld"}
    used: dict[str, str] = {}
    assert abbreviate("4.8 sparse_categorical_crossentropy: within 0.01 of categorical_crossentropy", used) == \
        "4.8 scce: within 0.01 of cce"
    assert used == {"sparse_categorical_crossentropy": "scce", "categorical_crossentropy": "cce"}
    assert abbreviate("my_mean_squared_error_v2 and sparse_categorical_cross_entropy") == \
        "my_mean_squared_error_v2 and sparse_categorical_cross_entropy"  # only whole names


def test_numbers_are_never_wrapped_and_text_wraps_at_spaces(record) -> None:
    recorder = record(40)
    recorder.print(table("t", ["loss", "test (mean ± sd)", "why"],
                         [["hinge", "0.821 ± 0.012", "a long explanation of the verdict in several words"]]))
    out = assert_fits_without_breaking_words(recorder, 40)
    assert "0.821 ± 0.012" in out


def test_columns_that_do_not_fit_move_to_a_continued_table(record) -> None:
    recorder = record(60)
    columns = ["name", *(f"column {i}" for i in range(8))]
    recorder.print(table("Wide", columns, [["row", *(f"{i}.000 ± 0.001" for i in range(8))]]))
    out = assert_fits_without_breaking_words(recorder, 60)
    assert "Wide (continued)" in out and out.count("│ row ") >= 2  # the row's name repeated in each part


def test_a_table_that_fits_is_printed_as_it_was(record) -> None:
    recorder = record(100)
    recorder.print(table("Small", ["loss", "test"], [["mean_squared_error", 0.5]]))
    out = recorder.export_text()
    assert "mean_squared_error" in out and "Abbreviations" not in out and "continued" not in out


# ------------------------------------------------------------------------------ width and --wide


def test_piped_output_is_100_columns_and_wide_lifts_it() -> None:
    if _render.console.is_terminal:
        pytest.skip("stdout is a terminal: its width applies")
    assert _render.console.width == _render.WIDTH == 100
    try:
        set_wide(True)
        assert _render.console.width >= 1000 and _render.is_wide()
    finally:
        set_wide(False)
    assert _render.console.width == 100 and not _render.is_wide()


def test_wide_prints_every_table_whole(record, replication) -> None:
    recorder = record(400)
    try:
        set_wide(True)
        _commands._print_replication(replication)
    finally:
        set_wide(False)
    out = recorder.export_text()
    assert "Abbreviations" not in out and "(continued)" not in out
    assert "4.8 sparse_categorical_crossentropy" in out
    assert max(cell_len(line) for line in out.splitlines()) > 100


def test_wide_for_one_table(record) -> None:
    recorder = record(300)
    columns = ["loss", *(f"column number {i}" for i in range(8))]
    rows = [["sparse_categorical_crossentropy", *(f"{i}.000 ± 0.001" for i in range(8))]]
    recorder.print(table("Fitted", columns, rows))
    recorder.print(table("Whole", columns, rows, wide=True))
    fitted, whole = recorder.export_text().split("Whole")
    assert max(cell_len(line) for line in fitted.splitlines()) <= 100 and "(continued)" in fitted
    assert max(cell_len(line) for line in whole.splitlines()) > 100 and "(continued)" not in whole
