"""lineagraph imports the Neo4j driver without NumPy and pandas (lineagraph._driver), and
the driver still works beside them when the program imports them itself."""

from __future__ import annotations

import subprocess
import sys

from recorder_helpers import store_env

PROGRAM = """
import sys
import lineagraph
from lineagraph.connection import open_driver
from lineagraph.environment import resolve_settings

print(sorted(m for m in ("numpy", "pandas", "pyarrow") if m in sys.modules))
import numpy, pandas  # the program's own: imported as always
driver = open_driver(resolve_settings())
records, _, _ = driver.execute_query("RETURN $x AS x, $when AS when",
                                     x=[1, 2.5, "three"], when=pandas.Timestamp(0).to_pydatetime())
print(records[0]["x"], records[0]["when"].year, pandas.DataFrame({"a": [1]}).shape)
driver.close()
"""


def test_lineagraph_leaves_numpy_and_pandas_out_and_the_driver_works_beside_them(
        neo4j_settings, tmp_path):
    done = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True,
                          env=store_env(neo4j_settings, tmp_path), timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[]", "[1, 2.5, 'three'] 1970 (1, 1)"]


def test_a_driver_imported_before_lineagraph_is_left_as_it_is(tmp_path):
    program = ("import numpy, neo4j, neo4j._optional_deps as o; import lineagraph; "
               "print(o.np is numpy)")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
