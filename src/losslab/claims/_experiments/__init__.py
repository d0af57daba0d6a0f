"""The experiments, one module per group of claims; importing them registers the claims."""

from __future__ import annotations

from losslab.claims._experiments import _likelihood, _other, _training  # noqa: F401
