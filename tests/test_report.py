"""The HTML report and the notebook display, from real (short) studies: the verdicts in words, every
loss, one inline SVG per figure, sortable tables, provenance, nothing loaded from elsewhere, text
escaped, an atomic write; and the page in a real headless browser when one is installed."""

from __future__ import annotations

import ast
import dataclasses
import os
import platform
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import jax
import pytest
from markupsafe import escape

import losslab
from losslab.case_studies import CASE_STUDIES
from losslab.report import html_fragment, report_html, save_report

SETTINGS = losslab.Settings(epochs=5)
PROVENANCE = {"data fingerprint": "sha256:0f3a9c", "time": "2025-01-02T03:04:05Z"}
EXTERNAL = re.compile(r"""(?:\bsrc|\bhref)\s*=\s*["']?\s*(?:https?:)?//|@import|url\(\s*["']?\s*(?:https?:)?//|<link\b""", re.I)


@pytest.fixture(scope="module")
def study() -> losslab.Study:
    return losslab.train(losslab.get_problem("blobs"), ["cce", "kld"], seeds=range(3), settings=SETTINGS)


@pytest.fixture(scope="module")
def comparison(study) -> losslab.Comparison:
    return losslab.compare(study)


@pytest.fixture(scope="module")
def replication() -> losslab.Replication:
    """The regression and circles case studies (a tanh loss, a qualified claim, MAPE that
    diverges): enough to show every part of a replication in a third of the time of all."""
    cases = tuple(case for case in CASE_STUDIES if case.problem in ("regression", "circles"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MSLE on the tutorial's half-negative targets warns, as Keras would
        return losslab.replicate(repeats=2, epochs=3, cases=cases)


@pytest.fixture(scope="module")
def verification() -> losslab.Verification:
    return losslab.verify(losslab.get_problem("iris"), seeds=range(2), settings=losslab.Settings(epochs=3))


@pytest.fixture(scope="module")
def page(study, comparison, replication, verification) -> str:
    return report_html(title="losslab report", studies=[study], comparison=comparison, replication=replication,
                       verification=verification, notes=["A note from the caller."], provenance=PROVENANCE)


def expected_figures(replication: losslab.Replication) -> int:
    """Per case study its learning curves, and the circles scatter (replication); the mean curves
    and final distribution of iris (verification, four features: no scatter) and of blobs (the
    study, with its scatter)."""
    return len(replication.table) + 1 + 2 + 3


def expected_tables(replication: losslab.Replication) -> int:
    """The study and the verification's study: per loss and per run (2 each); the comparison and
    the verification's comparison: summary, pairs, diagnostics (3 each); the replication: cases,
    claims, diagnostics (3)."""
    return 2 * 2 + 2 * 3 + 3


def test_the_verdicts_come_first_in_words(page, comparison, replication, verification) -> None:
    sentences = [*comparison.verdicts, *verification.comparison.verdicts, *replication.table["reason"],
                 *replication.notes(), verification.recommendation.reason, *verification.skipped]
    for sentence in sentences:
        assert str(escape(sentence)) in page, sentence
    for agrees in set(replication.table["agrees"]):
        assert f">{agrees}</span>" in page or f">{agrees} (" in page
    verdicts, tables = page.index('<section id="verdicts">'), page.index('<section id="tables">')
    assert verdicts < tables < page.index('<section id="figures">') < page.index('<section id="provenance">')
    assert all(page.index(str(escape(s))) < tables for s in comparison.verdicts)


def test_every_loss_is_named(page, study, replication, verification) -> None:
    losses = {*study.losses, *replication.table["loss"], *verification.study.losses}
    assert len(losses) > 8
    for loss in losses:
        assert loss in page


def test_every_figure_is_an_inline_svg(page, replication) -> None:
    assert page.count("<svg") == expected_figures(replication)
    assert page.count('<svg class="figure"') == page.count("<svg")
    assert "<img" not in page and "<?xml" not in page and "<!DOCTYPE svg" not in page
    for row in replication.table.itertuples():
        assert str(escape(f"{row.case} {row.problem}: {row.loss}")) in page  # each case's figure, captioned
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "every id in the page is unique"


def test_tables_are_sortable(page, replication) -> None:
    assert page.count("<table") == page.count('<table class="sortable">') == expected_tables(replication)
    assert page.count("<th ") == page.count('<th scope="col"><button type="button">')
    assert 'data-sort="' in page and 'getAttribute("data-sort")' in page
    assert page.count("<script>") == 1


def test_plan_and_provenance(page, study, verification) -> None:
    for value in PROVENANCE.values():
        assert value in page
    provenance = page[page.index('<section id="provenance">'):]
    assert "<dd>0, 1, 2</dd>" in provenance and "<dd>0, 1</dd>" in provenance  # the seeds
    for version in (losslab.__version__, jax.__version__, platform.python_version()):
        assert f"<dd>{version}</dd>" in provenance
    assert "<dt>epochs</dt>\n<dd>5</dd>" in provenance
    assert "<dt>learning_rate</dt>\n<dd>0.01</dd>" in provenance
    assert str(escape(verification.study.problem.preparation["scaler"])) in provenance


def test_nothing_is_loaded_from_elsewhere(page, study) -> None:
    assert not EXTERNAL.search(page), EXTERNAL.search(page)
    assert not EXTERNAL.search(html_fragment(study))
    assert "@font-face" not in page


def test_diverged_runs_are_a_warning(page, replication) -> None:
    diverged = replication.table[replication.table["diverged"] > 0]
    assert len(diverged)  # MAPE on the standardised target
    assert "diverged" in page[page.index('<p class="alert"'):page.index('<section id="verdicts">')]
    notes = page[page.index('<section id="notes">'):page.index('<section id="provenance">')]
    assert "A note from the caller." in notes
    for row in diverged.itertuples():
        assert f"{row.problem}, {row.loss}: {row.diverged} of {row.runs} runs diverged" in notes


def test_text_is_escaped() -> None:
    evil = dataclasses.replace(losslab.get_problem("blobs"), name='<script>alert("x")</script>')
    study = losslab.train(evil, ["cce", "kld"], seeds=range(3), settings=SETTINGS)  # the programs of `study`
    page = report_html(title="<b>bold</b>", studies=[study], comparison=losslab.compare(study),
                       notes=["<img src=x onerror=alert(1)>"], provenance={"<i>key</i>": "<u>value</u>"})
    for raw in ("<script>alert", "<b>bold", "<img", "<i>key", "<u>value"):
        assert raw not in page
    for shown in ("&lt;script&gt;alert(", "&lt;b&gt;bold&lt;/b&gt;", "&lt;img src=x onerror=alert(1)&gt;",
                  "&lt;i&gt;key&lt;/i&gt;", "&lt;u&gt;value&lt;/u&gt;"):
        assert shown in page
    assert page.count("<svg") == 3  # the scatter, curves and distribution, their titles escaped too


def test_save_report_writes_atomically(comparison, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "out" / "report.html"
    path.parent.mkdir()
    path.write_text("an earlier report")
    renames = []
    real_replace = os.replace

    def replace(src, dst):
        renames.append((Path(src), Path(dst), Path(src).read_text(encoding="utf-8")))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    assert save_report(path, title="t", comparison=comparison) == path
    (src, dst, text), = renames
    assert dst == path and src.parent == path.parent and str(os.getpid()) in src.name
    assert text == path.read_text(encoding="utf-8") and text.rstrip().endswith("</html>")
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.html"]

    def half_written(self, data, *args, **kwargs):
        Path.write_bytes(self, data[: len(data) // 2].encode())
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_text", half_written)
    with pytest.raises(OSError, match="disk full"):
        save_report(path, title="t", comparison=comparison)
    assert path.read_text(encoding="utf-8") == text  # the earlier report, whole
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.html"]


def test_results_display_themselves_in_a_notebook(study, comparison, replication, verification) -> None:
    shown = {}
    for obj in (study, comparison, replication, verification):
        html = obj._repr_html_()
        assert html.startswith('<div class="losslab-report fragment">') and html.rstrip().endswith("</div>")
        assert "<html" not in html and "<body" not in html and "<style>" in html
        assert all(rule.startswith(".losslab-report") for rule in _css_selectors(html))  # scoped
        shown[type(obj).__name__] = html
    assert shown["Study"].count("<svg") == 3 and "<svg" not in shown["Comparison"]
    assert all(str(escape(v)) in shown["Comparison"] for v in comparison.verdicts)
    assert all(str(escape(n)) in shown["Replication"] for n in replication.notes())
    assert shown["Verification"].count("<svg") == 2
    ids = [set(re.findall(r'<section id="([^"]+)"', html)) for html in shown.values()]
    assert not set.intersection(*ids), "two fragments in one notebook never share an id"
    with pytest.raises(TypeError, match="Study, Comparison, Replication or Verification"):
        html_fragment(study.runs)


def _css_selectors(html: str) -> list[str]:
    css = html[html.index("<style>") + 7:html.index("</style>")]
    css = re.sub(r"@media[^{]*\{", "", css)
    return [s.strip() for block in re.findall(r"([^{}]+)\{[^{}]*\}", css) for s in block.split(",") if s.strip()]


def test_report_arguments_are_checked(study) -> None:
    with pytest.raises(TypeError, match="comparison must be a losslab Comparison"):
        report_html(title="t", comparison=study)
    with pytest.raises(TypeError, match=r"notes=\[text\]"):
        report_html(title="t", notes="one string")
    assert report_html(title="t", studies=study).count("<svg") == 3  # one study is taken as a list of one


@pytest.mark.parametrize("name", losslab.problem_names())
def test_a_problem_prints_short(name: str) -> None:
    problem = losslab.get_problem(name)
    assert len(str(problem).splitlines()) < 15
    assert "\n" not in repr(problem) and len(repr(problem)) < 200
    assert problem.name in str(problem) and problem.kind in repr(problem)
    assert "array(" not in str(problem) + repr(problem)


def test_only_the_package_root_and_the_command_line_import_the_report() -> None:
    """The report is presentation: no earlier stage may import it, and it never imports the CLI."""
    source = Path(losslab.__file__).parent
    for path in source.rglob("*.py"):
        module = ".".join(path.relative_to(source.parent).with_suffix("").parts)
        names = _imports(path)
        if module.startswith("losslab.report"):
            assert not any(n.startswith("losslab.cli") for n in names), module
        elif module != "losslab.__init__" and not module.startswith("losslab.cli"):
            assert not any(n.startswith("losslab.report") for n in names), f"{module} imports the report"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


# In a real browser ----------------------------------------------------------------------------
BROWSERS = ("chromium", "chromium-browser", "google-chrome")

#: Run in the page after the report's own script: count what the DOM holds, the requests the page
#: made (resource timing lists every fetch of a script, style, font or image), whether the page is
#: wider than the window, and sort the per-run table by its test metric both ways.
PROBE = """<script>
(function () {
  var b = document.body, table = document.querySelectorAll("table.sortable")[%d];
  function column() {
    return Array.prototype.map.call(table.tBodies[0].rows, function (r) { return parseFloat(r.cells[%d].getAttribute("data-sort")); });
  }
  function sorted(values, up) {
    return values.every(function (v, i) { return i === 0 || (up ? values[i - 1] <= v : values[i - 1] >= v); });
  }
  var button = table.tHead.rows[0].cells[%d].querySelector("button");
  button.click(); var up = sorted(column(), true);
  button.click(); var down = sorted(column(), false);
  b.setAttribute("data-tables", document.querySelectorAll("table.sortable").length);
  b.setAttribute("data-figures", document.querySelectorAll("svg.figure").length);
  b.setAttribute("data-requests", performance.getEntriesByType("resource").length);
  b.setAttribute("data-overflow", document.documentElement.scrollWidth > window.innerWidth);
  b.setAttribute("data-sorting", up && down && !sorted(column(), true));
})();
</script>
"""


def _browser() -> str | None:
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


@pytest.mark.skipif(_browser() is None, reason=f"no headless browser on PATH (looked for {', '.join(BROWSERS)})")
@pytest.mark.parametrize("width", [1280, 390], ids=["laptop", "phone"])
def test_the_report_renders_in_a_headless_browser(page, study, replication, tmp_path: Path, width: int) -> None:
    # the first table of the study's section is per loss, the second per run (column 4: test metric)
    per_run = page[:page.index(f"{study.problem.name}: every run")].count("<table")
    probed = page.replace("</body>", PROBE % (per_run, 4, 4) + "</body>")
    path = tmp_path / "report.html"
    path.write_text(probed, encoding="utf-8")
    command = [_browser(), "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--hide-scrollbars",
               f"--user-data-dir={tmp_path / 'profile'}", "--no-proxy-server", "--host-resolver-rules=MAP * ~NOTFOUND",
               f"--window-size={width},900", "--dump-dom", path.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90)
    dom = done.stdout
    assert "<body" in dom, done.stderr[-2000:]
    body = re.search(r"<body([^>]*)>", dom).group(1)
    attributes = dict(re.findall(r'data-([a-z]+)="([^"]*)"', body))
    assert attributes == {"tables": str(expected_tables(replication)), "figures": str(expected_figures(replication)),
                          "requests": "0", "overflow": "false", "sorting": "true"}
    assert dom.count("<svg") == expected_figures(replication)
