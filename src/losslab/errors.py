"""Error types for input a user can fix.

Every error raised for bad user input derives from :class:`LosslabError` (a ``ValueError``), and its
message is one line that names the problem and the fix. The command line catches exactly these,
prints the line and exits with code 2; anything else is a bug and shows its traceback.
"""

from __future__ import annotations


class LosslabError(ValueError):
    """Base class for errors caused by user input; the message says what to do."""


class UnknownNameError(LosslabError):
    """A loss, problem or dataset name that is not known; the message lists the closest names."""


class IncompatibleLossError(LosslabError):
    """A loss that does not fit the problem (kind or number of classes)."""


class TargetError(LosslabError):
    """Targets that the loss cannot take (labels outside the expected set, negative values, ...)."""


class DataError(LosslabError):
    """A data file or array that cannot be used as it is."""


class SettingsError(LosslabError):
    """A training or evaluation setting out of range (epochs, learning rate, repeats, ...)."""
