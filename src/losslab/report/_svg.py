"""A matplotlib figure as an SVG element to place inside an HTML page.

Text is kept as ``<text>`` (``svg.fonttype: none``): the file is several times smaller than
with glyph outlines, a reader can search and copy the loss names in a figure, and matplotlib
escapes the text as XML. What a standalone SVG file needs and an inline one must not have is
removed: the XML declaration and DOCTYPE (invalid inside HTML), the RDF metadata (it names
matplotlib's web address), and the ``<style>`` element, whose ``*`` rule would apply to the
whole page (the report's stylesheet carries the same rule, scoped).
"""

from __future__ import annotations

import io
import re

import matplotlib
from markupsafe import Markup
from matplotlib.figure import Figure

_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.S)
_STYLE = re.compile(r"\s*<style[^>]*>.*?</style>", re.S)
_EMPTY_DEFS = re.compile(r"\s*<defs>\s*</defs>")
_ID = re.compile(r'\sid="([^"]+)"')
_REFERENCE = re.compile(r'#([A-Za-z_][\w.:-]*)')
_SIZE = re.compile(r'<svg([^>]*?)\swidth="([^"]+)"\sheight="([^"]+)"')


def figure_svg(fig: Figure, label: str, salt: str) -> Markup:
    """``fig`` as an inline ``<svg>`` element that scales to its container's width (never beyond
    its own size), labelled ``label`` for screen readers.

    ``salt`` makes the ids matplotlib generates (clip paths, markers) unique within one page and
    the same from one report to the next; matplotlib's own names (``figure_1``, ``axes_1``),
    which every figure repeats and nothing references, are dropped.
    """
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = _EMPTY_DEFS.sub("", _STYLE.sub("", _METADATA.sub("", svg)))
    referenced = set(_REFERENCE.findall(_ID.sub("", svg)))
    svg = _ID.sub(lambda m: m.group(0) if m.group(1) in referenced else "", svg)
    width = _SIZE.search(svg).group(2)
    svg = _SIZE.sub(lambda m: f'<svg class="figure" role="img" aria-label="{_attribute(label)}" '
                              f'style="max-width: {width}"{m.group(1)}', svg, count=1)
    return Markup(svg.strip())


def _attribute(text: str) -> str:
    return str(Markup.escape(text))
