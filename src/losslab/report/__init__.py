"""The HTML report: results as one self-contained page to open in a browser, or in a notebook.

``report_html(title=..., studies=..., comparison=..., replication=..., verification=..., claims=...)``
returns the page (``claims``: the tutorial's prose claims as :func:`losslab.claims.claims` tested
them, each with its figure inline, and the losses drawn); ``save_report(path, ...)`` writes it atomically; ``html_fragment(obj)`` is the
same content for one result without the page around it, which the package root attaches as
``_repr_html_`` so that Jupyter displays a Study, Comparison, Replication or Verification.

The report is the last stage (presentation): it may use every stage before it, and no stage
imports it.
"""

from losslab.report._render import html_fragment, report_html, save_report

__all__ = ["html_fragment", "report_html", "save_report"]
