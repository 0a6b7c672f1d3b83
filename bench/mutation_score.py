"""The score of the last mutmut run (mutants/*.meta), over the mutants matching the globs given
(all when none): killed / (killed + survived), and the survivors' names."""

from __future__ import annotations

import fnmatch
import json
import sys
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code  # mutmut's own reading of a mutant's exit code


def main(patterns: list[str]) -> None:
    counts: Counter[str] = Counter()
    survivors = []
    for meta in sorted(Path("mutants").rglob("*.py.meta")):
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            if patterns and not any(fnmatch.fnmatch(name, p) for p in patterns):
                continue
            status = status_by_exit_code[code]
            counts[status] += 1
            if status == "survived":
                survivors.append(name)
    killed = counts["killed"] + counts["timeout"]
    tested = killed + counts["survived"]
    print(", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    print(f"score: {100 * killed / tested if tested else 0:.1f}% ({killed} of {tested} killed)")
    for name in survivors:
        print("survived:", name)


if __name__ == "__main__":
    main(sys.argv[1:])
