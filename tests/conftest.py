"""Test-wide settings.

Hypothesis runs derandomized, so CI is reproducible: the same examples every
run. Set BIBTOOLS_HYPOTHESIS_RANDOM=1 to explore new examples locally (the
fuzzing harness in fuzz/ is where long random runs belong).
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("bibtools", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None, print_blob=True)
settings.load_profile("explore" if os.environ.get("BIBTOOLS_HYPOTHESIS_RANDOM") else "bibtools")
