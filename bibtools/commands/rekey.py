"""``bibtools rekey``."""

from __future__ import annotations

import click

from ..diagnostics import InputError
from ..files import guard_outputs, read_input
from ..rekey import load_key_map, rekey_file


@click.command(name="rekey")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option(
    "--map",
    "map_path",
    required=True,
    metavar="FILE.json",
    help="The key map `bibtools merge --key-map` wrote.",
)
@click.option(
    "--bib",
    metavar="FILE.bib",
    help="The bibliography the FILEs cited before the merge: applies the map's entries "
    "for keys that named different entries in different inputs.",
)
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--no-backup", is_flag=True, help="Do not keep FILE.bak.")
def rekey(
    files: tuple[str, ...], map_path: str, bib: str | None, dry_run: bool, no_backup: bool
) -> None:
    """Rewrite citation keys in LaTeX and Markdown FILEs from a key map.

    Rewrites the keys of \\cite-family commands in .tex files and pandoc's
    @key citations in .md files; a copy of each changed file is kept as
    FILE.bak unless --no-backup.  Applying a map twice changes nothing.

    \b
    Examples:
      bibtools merge thesis.bib coauthor.bib -o all.bib --key-map keys.json
      bibtools rekey --map keys.json thesis.tex
      bibtools rekey --map keys.json --bib coauthor.bib chapter3.tex
    """
    # The FILEs are rewritten by design; the key map and --bib must not be among them.
    guard_outputs([] if dry_run else list(files), [map_path, bib], hint="")
    text, _encoding = read_input(map_path)
    try:
        key_map = load_key_map(text, map_path, bib)
    except RecursionError:
        raise InputError(f"{map_path}: not a key map (nested too deeply)") from None
    for path in files:
        done = rekey_file(path, key_map, dry_run=dry_run, backup=not no_backup)
        for replacement in done.replacements:
            click.echo(str(replacement))
        click.echo(done.summary(), err=True)
