"""Re-draw the ads handed out for annotation (checks that the files here are those samples).

python benchmarks/data/annotate/sample.py   # prints OK per file, or the first difference
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[2].parent / "shared" / "data" / "realestate"


def lines(name: str) -> list[str]:
    return [line for line in (DATA / name).read_text(encoding="utf-8").splitlines(keepends=True) if line.strip()]


def ids(path: Path) -> set[str]:
    return {json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


def drawn() -> dict[str, list[tuple[int, str]]]:
    notaires, bienici = lines("notaires_dev.jsonl"), lines("bienici_toulon_dev.jsonl")
    gold_dev = ids(DATA / "gold_dev.jsonl")
    first = random.Random(21).sample(range(len(notaires)), 50)
    out = {"notaires_a": first[:25], "notaires_b": first[25:]}
    seen = {json.loads(notaires[i])["id"] for i in first}
    rest = [i for i, line in enumerate(notaires) if json.loads(line)["id"] not in seen]
    tune = random.Random(23).sample(rest, 40)
    out |= {"notaires_tune_d": tune[:20], "notaires_tune_e": tune[20:]}
    seen |= {json.loads(notaires[i])["id"] for i in tune}
    rest = [i for i, line in enumerate(notaires) if json.loads(line)["id"] not in seen]
    tune = random.Random(25).sample(rest, 40)  # a second notaires tuning set (2026-12-04)
    out |= {"notaires_tune_h": tune[:20], "notaires_tune_i": tune[20:]}
    seen |= {json.loads(notaires[i])["id"] for i in tune}
    rest = [i for i, line in enumerate(notaires) if json.loads(line)["id"] not in seen]
    train = random.Random(26).sample(rest, 96)  # gold-supervised training ads (2026-12-05)
    out |= {f"notaires_train_{k}": train[24 * n : 24 * n + 24] for n, k in enumerate("jklm")}
    rest = [i for i, line in enumerate(bienici) if json.loads(line)["id"] not in gold_dev]
    out["bienici_c"] = random.Random(22).sample(rest, 40)
    seen = gold_dev | {json.loads(bienici[i])["id"] for i in out["bienici_c"]}
    rest = [i for i, line in enumerate(bienici) if json.loads(line)["id"] not in seen]
    tune = random.Random(24).sample(rest, 40)
    out |= {"bienici_tune_f": tune[:20], "bienici_tune_g": tune[20:]}
    seen |= {json.loads(bienici[i])["id"] for i in tune}
    rest = [i for i, line in enumerate(bienici) if json.loads(line)["id"] not in seen]
    out["bienici_train_n"] = random.Random(27).sample(rest, 24)  # gold-supervised training ads (2026-12-05)
    return {name: [(i, (notaires if name.startswith("notaires") else bienici)[i]) for i in idx]
            for name, idx in out.items()}  # fmt: skip


def main(write: bool = False) -> None:
    for name, rows in drawn().items():
        expected = [{"id": json.loads(line)["id"], "line": i + 1, "text": json.loads(line)["text"]} for i, line in rows]
        path = HERE / f"{name}.jsonl"
        if write and not path.exists():
            path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in expected), encoding="utf-8")
        found = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        print(name, "OK" if found == expected else "differs")


if __name__ == "__main__":
    import sys

    main(write="--write" in sys.argv)  # --write: hand out a new sample (an existing file is never rewritten)
