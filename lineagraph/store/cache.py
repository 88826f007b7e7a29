"""The store's one read cache: a bounded LRU of what a GraphLineaDB has read or
committed, keyed by (kind, id). LineaPy nodes, sessions and source code never change
once written, so they can be served again without a round trip; slicing keeps its
source code here too (under its own kind)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Iterable

from pydantic import BaseModel


class LRU:
    """A bounded, thread-safe cache keyed by (kind, id)."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, kind: str, key: str) -> Any:
        with self._lock:
            item = self._items.get((kind, key))
            if item is None:
                return None
            self._items.move_to_end((kind, key))
        # callers may mutate what they get: models are copied; other values (node
        # records, slicing's frozen code) are plain data never handed out to users
        return item.model_copy(deep=True) if isinstance(item, BaseModel) else item

    def put(self, kind: str, key: str, value: Any) -> None:
        if self.size <= 0:
            return
        value = value.model_copy(deep=True) if isinstance(value, BaseModel) else value
        with self._lock:
            self._items[(kind, key)] = value
            self._items.move_to_end((kind, key))
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def put_many(self, kind: str, items: Iterable[tuple[str, Any]]) -> None:
        """``put`` of many plain values (not models: they are not copied) under one
        lock: a bulk read puts 100,000 node records at once."""
        if self.size <= 0:
            return
        with self._lock:
            store, move = self._items, self._items.move_to_end
            for key, value in items:
                store[(kind, key)] = value
                move((kind, key))
            while len(store) > self.size:
                store.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
