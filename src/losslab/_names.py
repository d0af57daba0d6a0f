"""Name normalisation and did-you-mean messages shared by every name lookup."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping


def normalize(name: str) -> str:
    """Lower-case ``name`` and treat spaces, hyphens and underscores alike.

    >>> normalize("Mean Squared-Error")
    'mean_squared_error'
    """
    return "_".join(name.strip().lower().replace("-", " ").replace("_", " ").split())


def did_you_mean(name: str, known: Mapping[str, str] | Iterable[str], what: str) -> str:
    """A one-line message for an unknown ``name`` of type ``what``, with the closest known names.

    ``known`` is either the accepted names or a mapping from every accepted spelling (alias) to
    the canonical name it stands for; suggestions and the listing show canonical names.

    >>> did_you_mean("blob", ["blobs", "circles"], "problem")
    "unknown problem 'blob'; did you mean 'blobs'? Known problems: blobs, circles"
    """
    aliases = dict(known) if isinstance(known, Mapping) else {k: k for k in known}
    close = difflib.get_close_matches(normalize(name), sorted(aliases), n=6, cutoff=0.5)
    suggestions = list(dict.fromkeys(aliases[c] for c in close))[:3]
    canonical = sorted(set(aliases.values()))
    message = f"unknown {what} {name!r}"
    if suggestions:
        message += f"; did you mean {' or '.join(repr(s) for s in suggestions)}?"
    else:
        message += ";"
    plural = what + ("es" if what.endswith("s") else "s")
    return message + f" Known {plural}: {', '.join(canonical)}"
