"""The commands of the bibtools CLI, one module each (registered in bibtools.cli)."""
