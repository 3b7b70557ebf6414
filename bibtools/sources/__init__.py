"""Metadata sources: one module per service (``arxiv``; later ``github``, ...).

A source module wraps one web API behind a small client class that

* receives a :class:`bibtools.http.HttpClient` and never builds its own
  session, cache, pacing or retry loop (it may register a
  :class:`bibtools.http.HostPolicy` for its host);
* batches: it takes *all* the lookups of a run at once and decides how to
  spread them over requests;
* returns one result per lookup key with a :data:`status` from
  :data:`STATUSES`, never raising for a single missing or failed item;
* parses what it receives defensively (untrusted input) and knows nothing
  about records' merge policy, which lives in :mod:`bibtools.enrich`.

Sources are imported lazily by :mod:`bibtools.enrich`, so importing
``bibtools`` does not import ``requests``.
"""
