"""Regenerate the stored citeproc-js renderings in tests/data/citeproc_js/.

    cd benchmarks/citeproc_js && npm ci && python regenerate.py

Writes the CSL-JSON readings of ``entries.bib`` + ``entries.csl.json`` that
citeproc-js renders: ``items.bibtools.json`` (bibtools' reader and CSL-JSON
writer) and ``items.pandoc.json`` (``pandoc -f bibtex -t csljson`` and the
CSL items as they are), then runs ``node render.js``, which adds
``items.citationjs.json`` (citation-js's BibTeX reader) and renders all
three in every stored style (``STYLE.READING.json``: citation key -> the
``csl-entry`` HTML citeproc-js made).  Rerun it whenever the CSL-JSON
writer changes (the fidelity test then says so) or a style file is updated.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DATA = ROOT / "tests" / "data" / "citeproc_js"
sys.path.insert(0, str(ROOT))


def main() -> int:
    from bibtools.convert import read_file, write
    from bibtools.render import pandoc_path
    from bibtools.text.keys import assign_keys

    records = read_file(str(DATA / "entries.bib")).records
    records += read_file(str(DATA / "entries.csl.json")).records
    assign_keys(records)
    items = json.loads(write(records, "csljson").text)
    dump(DATA / "items.bibtools.json", items)
    out = subprocess.run(
        [pandoc_path(), "-f", "bibtex", "-t", "csljson", str(DATA / "entries.bib")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    csl = json.loads((DATA / "entries.csl.json").read_text(encoding="utf-8"))
    dump(DATA / "items.pandoc.json", json.loads(out) + csl)
    subprocess.run(["node", "render.js"], cwd=HERE, check=True)
    return 0


def dump(path: Path, items: list) -> None:
    path.write_text(json.dumps(items, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
