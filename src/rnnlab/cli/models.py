"""``rnnlab models``: the models shipped with rnnlab, loaded by name."""

from __future__ import annotations

import json

import typer

from rnnlab.cli.common import print_table, wants_json


def models(as_json: bool = typer.Option(False, "--json", help="One JSON list (also when stdout is not a terminal).")
           ) -> None:  # fmt: skip
    """The models shipped with rnnlab: use a name wherever a model directory goes (`rnnlab tag predict --model
    ner-en "..."`, `serve --model ner=ner-en`, `rnnlab.load("ner-en")`). Each directory has its card (README.md)."""
    from rnnlab.hub import SHIPPED_DIR, catalog

    rows = catalog()
    if wants_json(as_json):
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    table = [{"name": r["name"], "task": r["task"], "data": r["data"].split(":")[0], "MB": r["size_mb"],
              "scores": ", ".join(f"{k} {v:.4g}" for k, v in r["scores"].items()) or "-",
              "present": "yes" if r["present"] else "no (benchmarks/build_models.py)"} for r in rows]  # fmt: skip
    print_table(table, title=f"shipped models ({SHIPPED_DIR})")
