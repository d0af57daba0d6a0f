"""The tutorial's claims in the HTML report (a card per claim: verdict badge, quote, design, finding,
its PNG inline as a data URI; the losses drawn as inline SVG), and the ``claims`` and
``plot-losses`` commands: JSON, files, ``--report``, and one error line for a name that does not
exist."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from pathlib import Path

import pytest
from markupsafe import escape
from losslab.claims import VERDICTS, Claim, claims
from losslab.registry import get_loss
from losslab.report import report_html, save_report
from losslab.report._parts import CLAIM_LOSSES, CLAIM_TONES

from test_cli import assert_one_error_line, invoke

PNG = b"\x89PNG\r\n\x1a\n"
DATA_IMAGE = re.compile(r'<img class="figure" src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
EXTERNAL = re.compile(r"""(?:\bsrc|\bhref)\s*=\s*["']?\s*(?:https?:)?//|@import|url\(\s*["']?\s*(?:https?:)?//|<link\b""", re.I)
#: The quickest claim to run through the command line (about 3 s with 2 repeats).
QUICK_CLAIM = 9


@pytest.fixture(scope="module")
def found(tmp_path_factory: pytest.TempPathFactory) -> Claim:
    """A real claim, tested quickly (claim 8, a small design on 2 seeds)."""
    (claim,) = claims(repeats=2, out=tmp_path_factory.mktemp("claims"), only=[8], quick=True)
    return claim


@pytest.fixture(scope="module")
def page(found: Claim, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A report of claims only, written as the command writes it."""
    path = save_report(tmp_path_factory.mktemp("report") / "claims_report.html",
                       title="The tutorial's claims, tested", claims=[found], provenance={"repeats": 2})
    return path.read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------ the report


def test_a_claim_shows_its_verdict_quote_design_and_finding(page: str, found: Claim) -> None:
    assert found.verdict in VERDICTS
    section = page[page.index('<section id="claims">'):]
    section = section[:section.index("</section>")]
    assert "<h2>The tutorial&#39;s claims, tested</h2>" in section
    assert f'<span class="badge badge-{CLAIM_TONES[found.verdict]}">{found.verdict}</span> {found.number}.' in section
    for text in (found.quote, found.design, found.summary):
        assert str(escape(text)) in section, text
    assert f'id="claim-{found.number}"' in section


def test_a_claims_figure_is_embedded_as_a_png_data_uri(page: str, found: Claim) -> None:
    images = DATA_IMAGE.findall(page)
    assert len(images) == 1
    assert base64.b64decode(images[0]) == Path(found.figure).read_bytes()
    assert base64.b64decode(images[0]).startswith(PNG)
    assert not EXTERNAL.search(page)  # a data URI loads nothing from elsewhere


def test_the_losses_are_drawn_as_inline_svg(page: str) -> None:
    assert page.count("<svg") == 1
    assert re.search(r'<svg class="figure" role="img" aria-label="The losses and their gradients', page)
    svg = page[page.index("<svg"):page.index("</svg>")]
    for name in CLAIM_LOSSES:
        assert get_loss(name).name in svg, name


def test_a_report_of_claims_alone_has_only_their_sections(page: str) -> None:
    nav = re.search(r"<nav.*?</nav>", page, re.S).group(0)
    assert re.findall(r'href="#([a-z]+)"', nav) == ["claims", "provenance"]
    assert "<h2>Verdicts</h2>" not in page and "<h2>Tables</h2>" not in page
    assert page.rstrip().endswith("</html>")


def test_a_claim_without_a_readable_figure_says_so(found: Claim, tmp_path: Path) -> None:
    gone = dataclasses.replace(found, figure=tmp_path / "gone.png")
    none = dataclasses.replace(found, number=99, figure=None)
    page = report_html(title="claims", claims=[gone, none])
    assert "<img" not in page
    assert f"No figure: its figure {tmp_path / 'gone.png'} could not be read." in page


def test_claim_text_is_escaped(found: Claim) -> None:
    hostile = dataclasses.replace(found, quote="<script>alert(1)</script>", design="<b>bold</b>")
    page = report_html(title="claims", claims=hostile)  # a single Claim is taken as one
    assert "<script>alert" not in page and "<b>bold" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;bold&lt;/b&gt;" in page


def test_claims_must_be_claim_records() -> None:
    with pytest.raises(TypeError, match="Claim records"):
        report_html(title="claims", claims=[{"number": 1}])


# ----------------------------------------------------------------------------- the command line


def test_claims_command_prints_json_with_a_verdict_and_a_figure(tmp_path: Path) -> None:
    result = invoke("claims", "--only", QUICK_CLAIM, "--repeats", 2, "--json", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    (claim,) = data["claims"]
    assert claim["number"] == QUICK_CLAIM and claim["verdict"] in ("supported", "not supported", "depends")
    assert claim["quote"] and claim["design"] and claim["summary"]
    assert Path(claim["figure"]).is_file() and Path(claim["figure"]).read_bytes().startswith(PNG)
    assert Path(data["table"]).is_file()
    assert "report" not in data and not (tmp_path / "claims_report.html").exists()


def test_claims_command_writes_a_report(tmp_path: Path) -> None:
    result = invoke("claims", "--only", QUICK_CLAIM, "--repeats", 2, "--json", "--out", tmp_path, "--report")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert Path(data["report"]) == tmp_path / "claims_report.html"
    page = Path(data["report"]).read_text(encoding="utf-8")
    assert data["claims"][0]["verdict"] in page and str(escape(data["claims"][0]["quote"])) in page
    assert len(DATA_IMAGE.findall(page)) == 1 and page.count("<svg") == 1


def test_an_unknown_claim_is_one_error_line(tmp_path: Path) -> None:
    assert_one_error_line(invoke("claims", "--only", 42, "--repeats", 2, "--out", tmp_path), "no claim 42")


def test_plot_losses_writes_the_png_and_lists_the_losses(tmp_path: Path) -> None:
    out = tmp_path / "drawn" / "losses.png"
    result = invoke("plot-losses", "mse", "hinge", "--out", out, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data == {"losses": ["mean_squared_error", "hinge"], "figure": str(out)}
    assert out.read_bytes().startswith(PNG)


def test_an_unknown_loss_is_one_error_line(tmp_path: Path) -> None:
    result = invoke("plot-losses", "nosuchloss", "--out", tmp_path / "x.png")
    assert_one_error_line(result, "nosuchloss")
    assert not (tmp_path / "x.png").exists()
