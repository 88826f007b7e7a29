"""The demo of `lineagraph demo` and `make demo`: a small LineaPy 0.2.3 database shipped
with the package (the recording of ``demo_data/list_mutation_alias/script.py``)."""

from __future__ import annotations

from pathlib import Path

DEMO_DB = Path(__file__).resolve().parent / "demo_data" / "list_mutation_alias" / "db.sqlite"
DEMO_ARTIFACT = "sorted_scores"
