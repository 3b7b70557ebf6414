"""Text rules every format shares: LaTeX and markup, names, dates, keys, URLs, matching.

Pure functions over strings and :mod:`bibtools.model` values; no I/O.
"""
