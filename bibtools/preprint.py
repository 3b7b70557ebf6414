"""What a preprint is: one rule for every module that asks.

A *preprint venue* is a container or publisher that names a preprint server
(arXiv, CoRR, bioRxiv, SSRN, OpenReview...) at its start: "SSRN Electronic
Journal" is one, "IEEE Transactions on ..." never is, whatever words follow.
A *preprint* is a record of a paper not (yet) known in its version of
record: an arXiv id, a preprint DOI or a preprint venue, and no venue of
record.  An *arXiv preprint* is the narrower case the writers care about: a
paper known by its arXiv id (or arXiv class) and nothing else.
"""

from __future__ import annotations

import re

from .ids import arxiv_from_record
from .model import Record
from .text.markup import to_plain

_PREPRINT_VENUE = re.compile(
    r"^\W*(?:arxiv|corr|computing research repository|e-?prints?|preprints?|biorxiv|medrxiv"
    r"|chemrxiv|techrxiv|ssrn|research\s*square|openreview)\b",
    re.IGNORECASE,
)
_PREPRINT_DOI = re.compile(
    r"^10\.(?:48550/arxiv\.|2139/ssrn\.|1101/(?:\d{4}\.\d{2}\.\d{2}\.)?\d{6,}(?:v\d+)?$)",
    re.IGNORECASE,
)
# Types a preprint may have been read as (@misc, @article{journal=CoRR}, @unpublished, ...).
_PREPRINT_TYPES = frozenset(
    {"article", "article-journal", "paper-conference", "document", "manuscript", "report"}
    | {"webpage", "post"}
)


def is_preprint_venue(text: str) -> bool:
    """``CoRR``, ``arXiv preprint arXiv:2106.15928``, ``ArXiv``, ``bioRxiv``...: not a venue of record."""
    return bool(text) and bool(_PREPRINT_VENUE.match(to_plain(text)))


def is_preprint_doi(doi: str) -> bool:
    """arXiv's, SSRN's and bioRxiv's DOIs: a preprint's, not a publisher's."""
    return bool(_PREPRINT_DOI.match(doi.strip()))


def publisher_doi(record: Record) -> str:
    """The record's DOI when it is a publisher's (not a preprint server's), else ``""``."""
    doi = record.doi.strip()
    return doi if doi.startswith("10.") and not is_preprint_doi(doi) else ""


def is_arxiv_preprint(record: Record) -> bool:
    """An arXiv paper not (yet) known in a published version (written as @misc with eprint)."""
    if record.type not in ("article", "document", "manuscript"):
        return False  # a journal article or conference paper that is also on arXiv
    return bool(record.arxiv_id) or (
        bool(record.arxiv_primary_class) and not record.container_title
    )


def is_preprint(record: Record) -> bool:
    """A record of a preprint not yet replaced by its version of record."""
    if record.type not in _PREPRINT_TYPES:
        return False
    if record.container_title and not is_preprint_venue(record.container_title):
        return False
    return (
        arxiv_from_record(record) is not None
        or is_arxiv_preprint(record)
        or is_preprint_doi(record.doi)
        or bool(record.container_title)  # CoRR, arXiv e-prints...: checked above
        or is_preprint_venue(record.publisher)
    )
