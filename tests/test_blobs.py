"""Tests of lineagraph.blobs: the content-addressed blob store. No database needed."""

from __future__ import annotations

import datetime
import decimal
import hashlib
import logging
import os
import pickle
import stat
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import lineagraph.blobs as blobs_module
from lineagraph.blobs import CHUNK_SIZE, BlobInfo, BlobStore, hash_file
from lineagraph.errors import (
    ConfigurationError,
    CorruptBlobError,
    LineagraphError,
    NotFoundError,
)

posix_only = pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def files_under(root: Path) -> list[Path]:
    if not root.exists():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file())


def flip_first_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[0] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.fixture
def store(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


# -- a pickle that runs code when loaded ----------------------------------------------


def _leave_marker(path: str) -> str:
    Path(path).write_text("unpickled")
    return "payload ran"


class LeavesMarkerWhenUnpickled:
    """Unpickling this object calls ``_leave_marker``: the file appearing proves code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (_leave_marker, (str(self.marker),))


# -- round trips -------------------------------------------------------------------


def test_bytes_put_then_got_come_back_identical(store: BlobStore) -> None:
    data = b"hello lineage\x00\xff"
    info = store.put_bytes(data)
    assert info == BlobInfo(key=sha(data), sha256=sha(data), size=len(data))
    assert store.get_bytes(info.key) == data


def test_blobs_live_at_root_shard_key_pkl(store: BlobStore) -> None:
    info = store.put_bytes(b"layout")
    expected = store.root / info.key[:2] / f"{info.key}.pkl"
    assert store.path(info.key) == expected
    assert expected.read_bytes() == b"layout"


def test_empty_bytes_are_a_valid_blob(store: BlobStore) -> None:
    info = store.put_bytes(b"")
    assert info.key == sha(b"") and info.size == 0
    assert store.get_bytes(info.key) == b""


def test_identical_content_is_stored_once_under_the_same_key(store: BlobStore) -> None:
    first = store.put_bytes(b"same bytes")
    second = store.put_bytes(b"same bytes")
    assert first == second
    assert files_under(store.root) == [store.path(first.key)]


def test_storing_existing_intact_content_does_not_rewrite_the_file(
    store: BlobStore,
) -> None:
    info = store.put_bytes(b"keep me")
    path = store.path(info.key)
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    inode = path.stat().st_ino
    store.put_bytes(b"keep me")
    assert path.stat().st_ino == inode  # not rewritten...
    # ...but touched, so garbage collection with a grace period leaves it alone
    assert path.stat().st_mtime_ns > 1_000_000_000
    assert store.age(info.key) < 60


def test_storing_content_again_repairs_a_blob_that_changed_on_disk(
    store: BlobStore,
) -> None:
    info = store.put_bytes(b"repair me")
    flip_first_byte(store.path(info.key))
    assert not store.verify(info.key)
    store.put_bytes(b"repair me")
    assert store.verify(info.key)
    assert store.get_bytes(info.key) == b"repair me"


VALUES = [
    None,
    0,
    -(2**100),
    3.5,
    float("inf"),
    "text with ünïcode",
    b"raw\x00bytes",
    [1, [2, [3]]],
    (1, "two", None),
    {"a": 1, "nested": {"b": [1, 2]}},
    {1, 2, 3},
    frozenset({"x"}),
    datetime.datetime(2024, 1, 2, 3, 4, 5),
    decimal.Decimal("1.10"),
    Path("some/where"),
    Ellipsis,
    bytearray(b"mutable"),
]


@pytest.mark.parametrize("value", VALUES, ids=[repr(v)[:30] for v in VALUES])
def test_python_values_round_trip_through_pickle(store: BlobStore, value) -> None:
    info = store.put_value(value)
    assert info is not None
    loaded = store.load_value(info.key)
    assert loaded == value
    assert type(loaded) is type(value)


def test_values_are_pickled_with_protocol_5(store: BlobStore) -> None:
    info = store.put_value({"k": [1, 2]})
    assert info is not None
    assert store.get_bytes(info.key) == pickle.dumps({"k": [1, 2]}, protocol=5)


def _generator():
    yield 1


UNPICKLABLE = {
    "lambda": lambda: None,
    "generator": _generator(),
    "lock": threading.Lock(),
    "local class": type("Local", (), {"__qualname__": "f.<locals>.Local"})(),
    "list holding a lock": [1, threading.Lock()],
}


@pytest.mark.parametrize("value", UNPICKLABLE.values(), ids=UNPICKLABLE.keys())
def test_an_unpicklable_value_gives_none_and_writes_nothing(
    store: BlobStore, value
) -> None:
    assert store.put_value(value) is None
    assert files_under(store.root) == []
    assert list(store.keys()) == []


def test_a_value_too_deep_to_pickle_gives_none(store: BlobStore) -> None:
    deep: list = []
    for _ in range(sys.getrecursionlimit() * 10):
        deep = [deep]
    assert store.put_value(deep) is None
    assert files_under(store.root) == []


def test_why_a_value_was_not_pickled_is_logged_at_debug(
    store: BlobStore, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="lineagraph.blobs"):
        store.put_value(threading.Lock())
    assert any(
        r.levelno == logging.DEBUG and "lock" in r.getMessage().lower()
        for r in caplog.records
    )


# -- corruption ----------------------------------------------------------------------


def test_a_blob_changed_on_disk_is_refused_naming_key_path_and_hashes(
    store: BlobStore,
) -> None:
    info = store.put_bytes(b"original content")
    path = store.path(info.key)
    flip_first_byte(path)
    actual = sha(path.read_bytes())
    with pytest.raises(CorruptBlobError) as excinfo:
        store.get_bytes(info.key)
    message = str(excinfo.value)
    assert info.key in message
    assert str(path) in message
    assert actual in message
    assert "changed on disk" in message and "will not be loaded" in message
    assert isinstance(excinfo.value, LineagraphError)


def test_load_value_refuses_a_blob_changed_on_disk(store: BlobStore) -> None:
    info = store.put_value({"answer": 42})
    assert info is not None
    flip_first_byte(store.path(info.key))
    with pytest.raises(CorruptBlobError, match=info.key):
        store.load_value(info.key)


def test_the_malicious_payload_really_runs_code_when_unpickled(tmp_path: Path) -> None:
    # Control for the next test: without it, a payload that never ran would make
    # "the marker does not exist" pass for the wrong reason.
    marker = tmp_path / "marker"
    payload = pickle.dumps(LeavesMarkerWhenUnpickled(marker), protocol=5)
    assert pickle.loads(payload) == "payload ran"
    assert marker.exists()


def test_load_value_never_unpickles_a_replaced_blob(
    store: BlobStore, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    info = store.put_value("an innocent value")
    assert info is not None
    payload = pickle.dumps(LeavesMarkerWhenUnpickled(marker), protocol=5)
    store.path(info.key).write_bytes(payload)

    with pytest.raises(CorruptBlobError, match=info.key):
        store.load_value(info.key)
    assert not marker.exists()


def test_a_missing_blob_raises_corrupt_blob_error_naming_key_and_path(
    store: BlobStore,
) -> None:
    info = store.put_bytes(b"soon gone")
    path = store.path(info.key)
    path.unlink()
    for read in (store.get_bytes, store.load_value):
        with pytest.raises(CorruptBlobError) as excinfo:
            read(info.key)
        message = str(excinfo.value)
        assert info.key in message and str(path) in message and "missing" in message


def test_a_blob_in_an_empty_store_is_missing(store: BlobStore) -> None:
    with pytest.raises(CorruptBlobError, match="missing"):
        store.get_bytes("0" * 64)
    assert not store.root.exists()


def test_verify_tells_intact_from_changed_and_missing(store: BlobStore) -> None:
    info = store.put_bytes(b"check me")
    assert store.verify(info.key)
    flip_first_byte(store.path(info.key))
    assert not store.verify(info.key)
    store.path(info.key).unlink()
    assert not store.verify(info.key)


# -- hostile keys ---------------------------------------------------------------------

HOSTILE_KEYS = {
    "parent traversal": "../x",
    "dot dot": "..",
    "63 chars": "a" * 63,
    "65 chars": "a" * 65,
    "uppercase": "A" * 64,
    "absolute path": "/etc/passwd",
    "with NUL": "a" * 32 + "\x00" + "a" * 31,
    "empty": "",
    "trailing newline": "a" * 64 + "\n",
    "traversal padded to 64": "../" + "a" * 61,
    "not a string": b"a" * 64,
    "None": None,
}

KEYED_METHODS = [
    "path",
    "get_bytes",
    "load_value",
    "exists",
    "info",
    "delete",
    "verify",
]


@pytest.mark.parametrize("method", KEYED_METHODS)
@pytest.mark.parametrize("key", HOSTILE_KEYS.values(), ids=HOSTILE_KEYS.keys())
def test_hostile_keys_are_rejected_by_every_method(
    store: BlobStore, method: str, key
) -> None:
    with pytest.raises(ConfigurationError) as excinfo:
        getattr(store, method)(key)
    assert "invalid blob key" in str(excinfo.value)
    assert "64 lowercase hex characters" in str(excinfo.value)


def test_a_rejected_key_touches_nothing_outside_the_store(tmp_path: Path) -> None:
    victim = tmp_path / "victim.pkl"
    victim.write_bytes(b"do not delete")
    store = BlobStore(tmp_path / "store" / "blobs")
    with pytest.raises(ConfigurationError):
        store.delete("../../victim")
    assert victim.read_bytes() == b"do not delete"


# -- permissions ----------------------------------------------------------------------


@posix_only
@pytest.mark.parametrize("umask", [0o000, 0o022, 0o277], ids=oct)
def test_a_new_root_is_0700_and_blob_files_are_0600(tmp_path: Path, umask: int) -> None:
    # 0o277 strips even owner bits from what mkdir/mkstemp create: only an explicit
    # chmod gives exactly 0700/0600 under every umask.
    old_umask = os.umask(umask)
    try:
        store = BlobStore(tmp_path / "nested" / "blobs")
        assert not store.root.exists()
        info = store.put_bytes(b"private")
        store.put_file(_write(tmp_path / "src.bin", b"also private"))
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(store.root.stat().st_mode) == 0o700
    assert stat.S_IMODE(store.path(info.key).parent.stat().st_mode) == 0o700
    for key in store.keys():
        assert stat.S_IMODE(store.path(key).stat().st_mode) == 0o600


@posix_only
def test_an_existing_root_keeps_its_own_mode(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    root.mkdir()
    os.chmod(root, 0o750)
    BlobStore(root).put_bytes(b"x")
    assert stat.S_IMODE(root.stat().st_mode) == 0o750


def test_the_root_is_only_created_on_first_write(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    assert list(store.keys()) == []
    assert not store.exists("0" * 64)
    assert not store.delete("0" * 64)
    assert not store.root.exists()
    store.put_bytes(b"now")
    assert store.root.is_dir()


# -- put_file -------------------------------------------------------------------------


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_put_file_gives_the_same_key_as_put_bytes(
    store: BlobStore, tmp_path: Path
) -> None:
    data = os.urandom(3 * CHUNK_SIZE + 12345)  # several chunks and a partial one
    source = _write(tmp_path / "big.pickle", data)
    from_file = store.put_file(source)
    assert from_file == BlobInfo(key=sha(data), sha256=sha(data), size=len(data))
    assert store.put_bytes(data) == from_file
    assert store.get_bytes(from_file.key) == data
    assert files_under(store.root) == [store.path(from_file.key)]
    assert hash_file(source) == from_file.key


def test_put_file_reads_in_chunks_rather_than_all_at_once(
    store: BlobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(blobs_module, "CHUNK_SIZE", 7)
    data = b"0123456789" * 10
    sizes: list[int] = []

    class SpyFile:
        def __init__(self, handle):
            self._handle = handle

        def read(self, size=-1):
            sizes.append(size)
            return self._handle.read(size)

    with open(_write(tmp_path / "src", data), "rb") as handle:
        info = store._put_stream(SpyFile(handle))
    assert info.key == sha(data)
    assert sizes and all(0 < s <= 7 for s in sizes)


def test_put_file_of_known_content_leaves_no_staging_file(
    store: BlobStore, tmp_path: Path
) -> None:
    source = _write(tmp_path / "v.pkl", pickle.dumps([1, 2, 3]))
    first = store.put_file(source)
    second = store.put_file(source)
    assert first == second
    assert files_under(store.root) == [store.path(first.key)]
    assert store.load_value(first.key) == [1, 2, 3]


def test_put_file_of_a_missing_source_raises_and_creates_nothing(
    store: BlobStore, tmp_path: Path
) -> None:
    with pytest.raises(FileNotFoundError):
        store.put_file(tmp_path / "absent.pkl")
    assert not store.root.exists()


# -- crashes and leftovers ------------------------------------------------------------


def test_leftover_temp_files_are_not_keys_and_do_not_break_put_or_get(
    store: BlobStore,
) -> None:
    data = b"survives a crash"
    key = sha(data)
    shard = store.root / key[:2]
    shard.mkdir(parents=True)
    # What an interrupted write leaves behind: a partial file under a temp name.
    (shard / ".tmp-abc123.partial").write_bytes(data[:5])
    (store.root / ".tmp-def456.partial").write_bytes(b"half")
    # Other clutter that looks almost like a blob.
    (shard / f"{key}.pkl.bak").write_bytes(b"x")
    (shard / f"{'f' * 64}.pkl").write_bytes(b"wrong shard")
    (shard / f"{key[:2]}{'g' * 62}.pkl").write_bytes(b"right shard, not hex")
    (shard / f"{key[:2]}.pkl").write_bytes(b"right shard, too short")
    (store.root / "README").write_text("not a blob")
    (store.root / "zz").mkdir()

    assert list(store.keys()) == []
    info = store.put_bytes(data)
    assert store.get_bytes(info.key) == data
    assert list(store.keys()) == [key]


def test_a_write_that_fails_before_the_rename_leaves_no_blob_and_no_temp_file(
    store: BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args, **kwargs):
        raise OSError("simulated crash before rename")

    monkeypatch.setattr(blobs_module.os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        store.put_bytes(b"never lands")
    key = sha(b"never lands")
    assert not store.exists(key)
    assert files_under(store.root) == []

    monkeypatch.undo()
    store.put_bytes(b"never lands")
    assert store.get_bytes(key) == b"never lands"


def test_blob_data_is_fsynced_before_it_is_renamed_into_place(
    store: BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        is_file = stat.S_ISREG(os.fstat(fd).st_mode)
        events.append("fsync file" if is_file else "fsync dir")
        return real_fsync(fd)

    def replace(src, dst):
        events.append("replace")
        return real_replace(src, dst)

    monkeypatch.setattr(blobs_module.os, "fsync", fsync)
    monkeypatch.setattr(blobs_module.os, "replace", replace)
    store.put_bytes(b"durable")
    assert "replace" in events
    rename = events.index("replace")
    assert "fsync file" in events[:rename]
    if os.name != "nt":  # the directory entry is fsynced after the rename
        assert "fsync dir" in events[rename + 1 :]


# -- listing, info, delete ------------------------------------------------------------


def test_keys_lists_every_stored_blob(store: BlobStore) -> None:
    infos = [store.put_bytes(bytes([i]) * i) for i in range(20)]
    assert sorted(store.keys()) == sorted(i.key for i in infos)


def test_info_reports_size_from_disk_without_reading_content(store: BlobStore) -> None:
    info = store.put_bytes(b"12345")
    assert store.info(info.key) == info
    flip_first_byte(store.path(info.key))
    assert store.info(info.key).size == 5  # no hash check, so no error


def test_info_of_a_missing_blob_raises_not_found(store: BlobStore) -> None:
    with pytest.raises(NotFoundError, match="0" * 64):
        store.info("0" * 64)


def test_delete_removes_the_blob_and_then_exists_is_false(store: BlobStore) -> None:
    info = store.put_bytes(b"delete me")
    assert store.exists(info.key)
    assert store.delete(info.key) is True
    assert store.exists(info.key) is False
    assert list(store.keys()) == []


def test_deleting_a_missing_blob_returns_false(store: BlobStore) -> None:
    assert store.delete("a" * 64) is False


def test_blob_info_is_frozen_and_validates_its_fields() -> None:
    info = BlobInfo(key="a" * 64, sha256="a" * 64, size=1)
    with pytest.raises(ValidationError):
        info.size = 2  # type: ignore[misc]
    with pytest.raises(ValidationError):
        BlobInfo(key="../x", sha256="a" * 64, size=1)
    with pytest.raises(ValidationError):
        BlobInfo(key="a" * 64, sha256="a" * 64, size=-1)


# -- property -------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=4096))
def test_any_bytes_round_trip_and_the_key_is_their_sha256(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    store = BlobStore(tmp_path_factory.mktemp("prop") / "blobs")
    info = store.put_bytes(data)
    assert info.key == info.sha256 == hashlib.sha256(data).hexdigest()
    assert info.size == len(data)
    assert store.get_bytes(info.key) == data
    assert store.verify(info.key)
    assert list(store.keys()) == [info.key]
