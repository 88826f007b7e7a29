"""The Python type of a pickled value, read from its opcodes without unpickling it."""

from __future__ import annotations

import collections
import datetime
import decimal
import fractions
import io
import json
import os
import pickle
import uuid
from pathlib import Path, PurePosixPath

import pytest

from lineagraph.pickletype import pickle_type, short_name

FIXTURES = Path(__file__).parent / "fixtures"


def lineapy_artifacts():
    for expected in sorted((FIXTURES / "lineapy").glob("*/expected.json")):
        for art in json.loads(expected.read_text())["artifacts"]:
            yield pytest.param(expected.parent / "pickles" / art["pickle"], art["value_type"],
                               id=f"{expected.parent.name}-{art['name']}-{art['version']}")


@pytest.mark.parametrize("path, recorded", list(lineapy_artifacts()))
def test_the_type_of_every_lineapy_fixture_value_is_the_one_lineapy_recorded(path, recorded):
    # LineaPy 0.2.3 recorded type(value) as module.qualname, having the value in hand
    assert pickle_type(path) == recorded


LIBRARY_PICKLES = {k: v for k, v in json.loads(
    (FIXTURES / "pickles" / "expected.json").read_text()).items() if k.endswith(".pkl")}


@pytest.mark.parametrize("name", sorted(LIBRARY_PICKLES))
def test_numpy_and_pandas_values_pickled_by_those_libraries(name):
    assert pickle_type(FIXTURES / "pickles" / name) == LIBRARY_PICKLES[name]


class Plain:
    pass


VALUES = [1, True, None, 1.5, "s", b"b", bytearray(b"x"), [1], (), (1,), (1, 2), (1, 2, 3),
          (1, 2, 3, 4), ([1], 2), ({}, []), {}, {"a": [1]}, {1}, frozenset({1}), 2**100,
          complex(1, 2), collections.OrderedDict(a=1), collections.defaultdict(list),
          collections.deque([1]), datetime.datetime(2024, 5, 1), datetime.date(2024, 5, 1),
          decimal.Decimal("1.5"), fractions.Fraction(1, 3), uuid.UUID(int=7),
          PurePosixPath("/x"), range(3), slice(1, 2), Plain(), ValueError("x")]


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_standard_library_values_under_every_protocol(protocol):
    for value in VALUES:
        expected = f"{type(value).__module__}.{type(value).__qualname__}"
        assert pickle_type(pickle.dumps(value, protocol=protocol)) == expected, value


class Reads(io.BytesIO):
    """A pickle in memory that counts the bytes read from it."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.read_bytes = 0

    def read(self, n=-1):
        data = super().read(n)
        self.read_bytes += len(data)
        return data


def test_long_payloads_are_skipped_not_read():
    stream = Reads(pickle.dumps({"weights": b"\0" * 20_000_000, "name": "x" * 5_000_000},
                                protocol=5))
    assert pickle_type(stream) == "builtins.dict"
    assert stream.read_bytes < 1000


class Runs:
    def __reduce__(self):
        return (os.system, ("touch unpickled-marker",))


def test_a_pickle_that_would_run_code_is_not_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = pickle.dumps(Runs(), protocol=5)
    assert pickle_type(data) is None  # os.system(...) builds nothing the opcodes can name
    assert not (tmp_path / "unpickled-marker").exists()


@pytest.mark.parametrize("data", [b"", b"not a pickle", pickle.dumps([1, 2])[:-1],
                                  b"\x80\x05\x95" + b"\xff" * 8])
def test_what_is_not_a_whole_pickle_has_no_type(data):
    assert pickle_type(data) is None


def test_a_pickled_class_or_function_is_not_taken_for_an_instance():
    assert pickle_type(pickle.dumps(Plain)) is None
    assert pickle_type(pickle.dumps(os.path.join)) is None


def test_short_names_are_what_people_call_the_types():
    assert [short_name(t) for t in ("builtins.dict", "pandas.core.frame.DataFrame",
                                    "sklearn.linear_model._base.LinearRegression", None)] == [
        "dict", "DataFrame", "LinearRegression", None]
