"""The commands of the ``bibtools`` command line, one module each."""
