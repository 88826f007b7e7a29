"""A content-addressed store on local disk for pickled node values.

Layout: ``<root>/<key[:2]>/<key>.pkl``, where ``key`` is the lowercase hex sha256 of
the blob's bytes (LineaPy kept pickles in a flat folder under arbitrary names).
A blob is written to a temporary file, flushed and fsynced, then ``os.replace``d
onto its real name, and the directory is fsynced: a crash leaves at worst a stray
temporary file, never a half-written blob under a real key. Every read re-hashes the
bytes, so a blob that changed on disk is refused before anything unpickles it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import pickle
import re
import tempfile
import time
from pathlib import Path
from typing import Any, BinaryIO, Iterator, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

from lineagraph.errors import ConfigurationError, CorruptBlobError, NotFoundError

__all__ = ["BlobInfo", "BlobStore", "hash_file", "CHUNK_SIZE", "PICKLE_PROTOCOL"]

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024
PICKLE_PROTOCOL = 5

_KEY_PATTERN = r"[0-9a-f]{64}"
# fullmatch, not match with "$": "$" also matches before a trailing newline.
_KEY_RE = re.compile(_KEY_PATTERN)
_SHARD_RE = re.compile(r"[0-9a-f]{2}")
_BLOB_SUFFIX = ".pkl"
_TEMP_PREFIX = ".tmp-"
_TEMP_SUFFIX = ".partial"

_LOCK_NAME = ".lock"

_DIR_MODE = 0o700
_FILE_MODE = 0o600


class BlobInfo(BaseModel):
    """Where a blob lives and what it is: its key, its sha256 and its size in bytes."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(pattern=f"^{_KEY_PATTERN}$")
    # Equal to ``key`` today; a separate field so a future key scheme can differ
    # while the content hash stays checkable.
    sha256: str = Field(pattern=f"^{_KEY_PATTERN}$")
    size: int = Field(ge=0)


def hash_file(path: Union[str, os.PathLike]) -> str:
    """The lowercase hex sha256 of a file, read in chunks so size does not matter."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_SIZE), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_key(key: object) -> str:
    if not isinstance(key, str) or _KEY_RE.fullmatch(key) is None:
        raise ConfigurationError(
            f"invalid blob key {key!r}: expected 64 lowercase hex characters"
        )
    return key


def _fsync_dir(directory: Path) -> None:
    # A rename is only durable once the directory entry is; Windows cannot open
    # directories for fsync (and its rename durability works differently).
    if os.name == "nt":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobStore:
    """Content-addressed blobs under one root directory.

    The root is created on the first write, private to the current user (0700);
    blob files are 0600 since pickles of user data may be sensitive. A root that
    already exists keeps whatever mode its owner gave it.
    """

    def __init__(self, root: Union[str, os.PathLike]) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"BlobStore({str(self.root)!r})"

    # -- paths -------------------------------------------------------------------

    def path(self, key: str) -> Path:
        """Where the blob ``key`` lives (or would live). Validates the key first."""
        key = _check_key(key)
        return self.root / key[:2] / f"{key}{_BLOB_SUFFIX}"

    def _make_dir(self, directory: Path) -> None:
        try:
            directory.mkdir(mode=_DIR_MODE)
        except FileExistsError:
            return
        # mkdir's mode is filtered by the umask; chmod makes it exactly 0700.
        os.chmod(directory, _DIR_MODE)
        _fsync_dir(directory.parent)

    def _ensure_root(self) -> None:
        self.root.parent.mkdir(parents=True, exist_ok=True)
        self._make_dir(self.root)

    # -- writing -----------------------------------------------------------------

    def put_bytes(self, data: bytes) -> BlobInfo:
        """Store ``data`` and return its info; storing the same bytes again is a no-op."""
        key = hashlib.sha256(data).hexdigest()
        info = BlobInfo(key=key, sha256=key, size=len(data))
        if self._intact(key):
            self._touch(key)
            return info
        target = self.path(key)
        self._ensure_root()
        self._make_dir(target.parent)
        fd, temp_name = tempfile.mkstemp(
            dir=target.parent, prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX
        )
        temp = Path(temp_name)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                self._seal(handle, temp)
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)
        return info

    def put_file(self, path: Union[str, os.PathLike]) -> BlobInfo:
        """Store the contents of the file at ``path`` without loading it into memory.

        The key is only known once the whole file is read, so the copy is staged in
        the root directory itself (same filesystem, so ``os.replace`` stays atomic)
        and then renamed into its shard.
        """
        # Open the source first so a missing file fails before the store is touched.
        with open(path, "rb") as src:
            return self._put_stream(src)

    def _put_stream(self, src: BinaryIO) -> BlobInfo:
        self._ensure_root()
        fd, temp_name = tempfile.mkstemp(
            dir=self.root, prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX
        )
        temp = Path(temp_name)
        try:
            digest = hashlib.sha256()
            size = 0
            with os.fdopen(fd, "wb") as out:
                for chunk in iter(lambda: src.read(CHUNK_SIZE), b""):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                self._seal(out, temp)
            key = digest.hexdigest()
            info = BlobInfo(key=key, sha256=key, size=size)
            if self._intact(key):
                temp.unlink()
                self._touch(key)
                return info
            target = self.path(key)
            self._make_dir(target.parent)
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)
        _fsync_dir(self.root)
        return info

    def put_value(self, value: Any) -> Optional[BlobInfo]:
        """Pickle ``value`` and store it; None if it cannot be pickled.

        Like LineaPy's FilePickler, an unpicklable value (a lambda, a generator, a
        lock, a too-deep structure...) is not an error: the lineage is still worth
        recording without its value. Failures to *write* do raise.
        """
        try:
            data = pickle.dumps(value, protocol=PICKLE_PROTOCOL)
        except Exception as err:  # pickling can fail with almost any exception type
            logger.debug(
                "not storing value of type %s: cannot pickle it (%s: %s)",
                type(value).__qualname__,
                type(err).__name__,
                err,
            )
            return None
        return self.put_bytes(data)

    @staticmethod
    def _seal(handle: BinaryIO, temp: Path) -> None:
        # Data must be on disk before the rename makes it visible under its key,
        # otherwise a crash could leave a real name pointing at missing data.
        handle.flush()
        os.fsync(handle.fileno())
        os.chmod(temp, _FILE_MODE)

    # -- reading -----------------------------------------------------------------

    def get_bytes(self, key: str) -> bytes:
        """The bytes of blob ``key``, after checking they still hash to ``key``."""
        target = self.path(key)
        try:
            data = target.read_bytes()
        except FileNotFoundError:
            raise CorruptBlobError(
                f"blob {key} is missing: {target} does not exist"
            ) from None
        actual = hashlib.sha256(data).hexdigest()
        if actual != key:
            raise CorruptBlobError(
                f"blob {key} at {target} changed on disk and will not be loaded: "
                f"expected sha256 {key}, found {actual}"
            )
        return data

    def load_value(self, key: str) -> Any:
        """Unpickle blob ``key``.

        Unpickling runs code: a pickle can call any importable function. That is why
        values are only loaded from this store, and only after ``get_bytes`` has
        checked that the bytes hash to the key they were stored under; a blob that was
        changed or replaced on disk raises ``CorruptBlobError`` and is never unpickled.
        """
        return pickle.loads(self.get_bytes(key))

    def _touch(self, key: str) -> None:
        # A fresh mtime tells garbage collection that someone is about to point at this
        # blob again, so a collector with a grace period leaves it alone.
        try:
            os.utime(self.path(key))
        except OSError:
            pass

    def age(self, key: str) -> float:
        """Seconds since the blob was last written or stored again."""
        return time.time() - self.path(key).stat().st_mtime

    def exists(self, key: str) -> bool:
        """Whether a file is stored for ``key`` (its content is not checked)."""
        return self.path(key).is_file()

    def info(self, key: str) -> BlobInfo:
        """Key, hash and size of blob ``key``; the size comes from stat, unverified."""
        target = self.path(key)
        try:
            size = target.stat().st_size
        except FileNotFoundError:
            raise NotFoundError(f"blob {key} not found: {target} does not exist") from None
        return BlobInfo(key=key, sha256=key, size=size)

    def verify(self, key: str) -> bool:
        """Whether blob ``key`` is present and its content still hashes to ``key``."""
        self.path(key)
        return self._intact(key)

    def _intact(self, key: str) -> bool:
        target = self.path(key)
        try:
            return hash_file(target) == key
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return False

    def keys(self) -> Iterator[str]:
        """Every key with a blob file in the store, in sorted order.

        Temporary files left by an interrupted write, and anything else that is not
        ``<shard>/<key>.pkl`` with a matching shard, are skipped.
        """
        if not self.root.is_dir():
            return
        for shard in sorted(self.root.iterdir()):
            if _SHARD_RE.fullmatch(shard.name) is None or not shard.is_dir():
                continue
            for entry in sorted(shard.iterdir()):
                name = entry.name
                if not name.endswith(_BLOB_SUFFIX):
                    continue
                key = name[: -len(_BLOB_SUFFIX)]
                if (
                    _KEY_RE.fullmatch(key) is not None
                    and key[:2] == shard.name
                    and entry.is_file()
                ):
                    yield key

    # -- coordination between processes ------------------------------------------

    @contextlib.contextmanager
    def lock(self, shared: bool) -> Iterator[None]:
        """Hold the store's lock (``<root>/.lock``, flock) for the ``with`` block.

        A commit that records values holds it shared from checking that their blobs are
        present until Neo4j has committed; removing blobs holds it exclusively from
        counting their references to unlinking them. So a blob is never removed between
        a commit's check and the moment its reference is visible, in any process.
        """
        self._ensure_root()
        fd = os.open(self.root / _LOCK_NAME, os.O_RDWR | os.O_CREAT, _FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    # -- removing ----------------------------------------------------------------

    def delete(self, key: str) -> bool:
        """Remove blob ``key``; True if a file was removed, False if there was none."""
        target = self.path(key)
        try:
            target.unlink()
        except FileNotFoundError:
            return False
        return True
