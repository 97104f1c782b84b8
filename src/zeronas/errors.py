"""Exceptions raised at the edges of zeronas: each carries a one-line, user-facing message."""

from __future__ import annotations


class ZeronasError(Exception):
    """Base class: the CLI prints the message of these on one line instead of a traceback."""


class InvalidArchError(ZeronasError, ValueError):
    """An architecture key that does not belong to the search space."""


class UnknownNameError(ZeronasError, ValueError):
    """A name (proxy, space, dataset, algorithm, cost) that is not registered."""


class DataNotFoundError(ZeronasError, FileNotFoundError):
    """A data file the caller needs is missing from the data directory."""


class InvalidInputError(ZeronasError, ValueError):
    """A batch, option or value with the wrong shape, type or range."""


class NotApplicableError(ZeronasError):
    """A proxy cannot be computed for this model (e.g. nwot on a network without ReLU)."""
