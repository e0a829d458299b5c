"""Lay out a question set over documentation a Debian package installs, for bench/answers.py.

    python bench/docsets.py NAME DIR     # then: python bench/answers.py --data DIR

`bench/docsets/NAME.yaml` names the package (install it first: apt-get install PACKAGE), the
files to take from it (globs; `.gz` files are unpacked; `{path: ..., as: NAME}` renames one)
and the questions (`q`, `source`, `any`, as in ../shared/data/qa-valgrind/). Only the question
files live in this repository; the documents stay the package's.
"""

from __future__ import annotations

import argparse
import glob
import gzip
import shutil
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

SETS = Path(__file__).resolve().parent / "docsets"


def lay_out(spec: dict[str, Any], target: Path) -> int:
    """Copy the set's files into `target/docs` and its questions to `target/questions.yaml`."""
    docs = target / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    count = 0
    for entry in spec["files"]:
        pattern, name = (entry, None) if isinstance(entry, str) else (entry["path"], entry["as"])
        found = sorted(glob.glob(pattern))
        if not found:
            raise SystemExit(f"{pattern}: not found; apt-get install {spec['package']}")
        for path in map(Path, found):
            out = docs / (name or path.name.removesuffix(".gz"))
            if path.suffix == ".gz":
                out.write_bytes(gzip.decompress(path.read_bytes()))
            else:
                shutil.copyfile(path, out)
            count += 1
    with (target / "questions.yaml").open("w", encoding="utf-8") as questions:
        YAML().dump(spec["questions"], questions)
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", choices=sorted(p.stem for p in SETS.glob("*.yaml")))
    parser.add_argument("target", type=Path, help="folder to create docs/ and questions.yaml in")
    args = parser.parse_args()
    spec = YAML(typ="safe").load((SETS / f"{args.name}.yaml").read_text(encoding="utf-8"))
    count = lay_out(spec, args.target)
    print(f"{args.target}: {count} files, {len(spec['questions'])} questions")


if __name__ == "__main__":
    main()
