"""Compare one commit's asv results between two TensorFlow environments.

`asv compare` compares commits within one environment; this prints, for one commit, each
benchmark's value in two environments (picked by their TensorFlow version) and the ratio.

    python scripts/asv_envs.py COMMIT 2.15.1 2.21.0 [--results .asv/results]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def load(results: Path, commit: str, tf: str) -> dict[str, float]:
    """Return {benchmark: value} of ``commit`` in the environment with TensorFlow ``tf``."""
    for path in sorted(results.glob(f"*/{commit[:8]}-*.json")):
        document = json.loads(path.read_text())
        if document.get("requirements", {}).get("tensorflow") == tf:
            column = document["result_columns"].index("result")
            return {name: row[column][0] for name, row in document["results"].items()
                    if row[column] and row[column][0] is not None}
    sys.exit(f"asv_envs: no results of {commit[:8]} with tensorflow {tf} under {results}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commit")
    parser.add_argument("tf_a")
    parser.add_argument("tf_b")
    parser.add_argument("--results", type=Path, default=Path(".asv/results"))
    args = parser.parse_args()
    a, b = load(args.results, args.commit, args.tf_a), load(args.results, args.commit, args.tf_b)
    print(f"| benchmark | TF {args.tf_a} | TF {args.tf_b} | ratio |")
    print("|---|---|---|---|")
    for name in sorted(set(a) & set(b)):
        ratio = b[name] / a[name] if a[name] else float("nan")
        print(f"| {name} | {a[name]:.4g} | {b[name]:.4g} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
