"""The wheel ships cypher/ and docker/, so a plain `pip install .` can load queries."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_contains_every_cypher_file_and_the_server_project(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path),
         str(ROOT)],
        check=True, capture_output=True, timeout=600,
    )
    wheel = next(tmp_path.glob("lineagraph-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"lineagraph/_data/{p.relative_to(ROOT).as_posix()}"
               for p in (ROOT / "cypher").rglob("*.cypher")}
    assert shipped and shipped <= names
    assert "lineagraph/_data/cypher/browser/style.grass" in names
    assert "lineagraph/_data/docker/java/pom.xml" in names
    assert "lineagraph/_data/docker/compose.yml" in names
    assert "lineagraph/demo_data/list_mutation_alias/db.sqlite" in names
    assert any(n.endswith("entry_points.txt") for n in names)
