"""One module per ``bibtools`` command: options in, one pipeline call (:mod:`bibtools.app`),
messages and an exit status out.  :mod:`bibtools.cli` loads them lazily."""
