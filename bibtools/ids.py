"""Identifiers: DOIs as every format spells them, reduced to the DOI alone."""

from __future__ import annotations

import re

# "doi:", "https://doi.org/", and any resolver or publisher URL whose path is
# the DOI ("http://doi.acm.org/10.1145/...").
_DOI_PREFIX = re.compile(r"^\s*(?:doi:\s*|(?:https?://)?[\w.-]+\.[a-z]{2,}/(?=10\.))", re.I)
DOI_SHAPE = re.compile(r"^10\.\d{4,9}/\S+$")
_DOI_ESCAPES = re.compile(r"\\([_%#&~$])")


def clean_doi(doi: str) -> str:
    """The DOI alone: ``https://doi.org/10.1109/CVPR.2016.90`` -> ``10.1109/CVPR.2016.90``.

    Strips ``doi:`` and resolver or publisher URL prefixes and LaTeX escapes
    (``\\_``); the case is kept.  A value that is no DOI comes back stripped only.
    """
    text = _DOI_ESCAPES.sub(r"\1", doi.strip())
    bare = _DOI_PREFIX.sub("", text, count=1).strip()
    return bare if DOI_SHAPE.match(bare) else text


def normalize_doi(doi: str) -> str:
    """:func:`clean_doi`, lower-cased: DOIs are case-insensitive (for comparing only)."""
    return clean_doi(doi).lower()
