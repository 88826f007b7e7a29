"""The Python type of a pickled value, read from the pickle's opcodes, never by unpickling.

Unpickling runs code (a pickle can call any function), so ``lineagraph artifacts`` must not
unpickle a value to say what it is. ``pickle_type`` instead follows the pickle machine's
stack symbolically over the opcodes ``pickletools`` describes: ``EMPTY_DICT`` builds a
``builtins.dict``, ``NEWOBJ`` an instance of the class a ``GLOBAL``/``STACK_GLOBAL`` named,
``REDUCE`` through ``copyreg._reconstructor`` or ``numpy...._reconstruct`` an instance of
their first argument, and so on. The result is ``module.qualname`` as ``type(value)``
would say it (``builtins.dict``, ``pandas.core.frame.DataFrame``), or None when the
opcodes do not tell (a value built by an arbitrary function, a damaged pickle).

It is a label, not a guarantee: a pickle crafted to lie about its type can, since nothing
is run to check. It reads the opcodes one by one as ``pickletools.genops`` does, with
pickletools' own argument readers, except that long byte and string payloads are skipped
with ``seek`` rather than read: a 2 GB array costs a few reads, not 2 GB of memory.
"""

from __future__ import annotations

import _compat_pickle  # pickle's own table of Python 2 names, used as pickle uses it
import io
import pickletools
import struct
from pathlib import Path
from typing import IO, Any, Iterator, NamedTuple

MAX_OPCODES = 2_000_000  # beyond this (a list of millions of items), the type is unknown
MAX_TEXT = 4096  # strings longer than this are skipped; names of classes are short

# Callables whose result is an instance of their first argument (a class).
_FIRST_ARG_IS_CLASS = {
    "copyreg._reconstructor", "copyreg.__newobj__", "copyreg.__newobj_ex__",
    "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
}
# cloudpickle builds a class defined in __main__ (not importable) by value.
_CLASS_FACTORIES = {
    "cloudpickle.cloudpickle._make_skeleton_class",
    "cloudpickle.cloudpickle_fast._make_skeleton_class",
}
# Classes pickle reaches through REDUCE whose names are lower case (others are taken to be
# classes when their name starts with a capital: collections.OrderedDict, uuid.UUID).
_LOWER_CASE_CLASSES = {
    *(f"builtins.{n}" for n in ("set", "frozenset", "bytearray", "bytes", "complex", "slice",
                                "range", "object", "list", "dict", "tuple", "int", "float",
                                "str", "bool", "type")),
    "datetime.datetime", "datetime.date", "datetime.time", "datetime.timedelta",
    "datetime.timezone", "collections.deque", "collections.defaultdict",
    "functools.partial", "numpy.dtype",
}
# Functions whose result's type is known: bytes under protocols 0-2, numpy 2's arrays
# under protocol 5.
_RESULT_OF = {"_codecs.encode": "builtins.bytes",
              "numpy.core.numeric._frombuffer": "numpy.ndarray",
              "numpy._core.numeric._frombuffer": "numpy.ndarray"}
_NUMPY_SCALAR = {"numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar"}
_NUMPY_SCALAR_NAMES = {
    "f2": "float16", "f4": "float32", "f8": "float64",
    "i1": "int8", "i2": "int16", "i4": "int32", "i8": "int64",
    "u1": "uint8", "u2": "uint16", "u4": "uint32", "u8": "uint64",
    "c8": "complex64", "c16": "complex128",
}
# What the opcodes that build a builtin push, by pickletools' stack-object name.
_BUILTIN_OF_STACK_OBJECT = {
    "int": "builtins.int", "int_or_bool": "builtins.int", "bool": "builtins.bool",
    "float": "builtins.float", "str": "builtins.str", "bytes_or_str": "builtins.str",
    "bytes": "builtins.bytes", "bytearray": "builtins.bytearray", "None": "builtins.NoneType",
    "list": "builtins.list", "tuple": "builtins.tuple", "dict": "builtins.dict",
    "set": "builtins.set", "frozenset": "builtins.frozenset",
}
# Opcodes that change the object under their arguments in place (its type stays): how
# many arguments they pop, or "mark" for all down to the topmost mark.
_IN_PLACE = {"APPEND": 1, "SETITEM": 2, "BUILD": 1,
             "APPENDS": "mark", "SETITEMS": "mark", "ADDITEMS": "mark"}
_LENGTH_PREFIX = {  # how pickletools' variable-length arguments give their length
    pickletools.TAKEN_FROM_ARGUMENT1: "<B", pickletools.TAKEN_FROM_ARGUMENT4: "<i",
    pickletools.TAKEN_FROM_ARGUMENT4U: "<I", pickletools.TAKEN_FROM_ARGUMENT8U: "<Q",
}


class _Obj(NamedTuple):
    """What the symbolic stack holds: a built object of type ``kind``, or (``ref``) a
    module attribute named by GLOBAL, or a class built by value."""

    kind: str | None  # "builtins.dict", ... None: unknown
    ref: bool = False  # a global or a class (something callable), not a value
    text: str | None = None  # a str's value, for STACK_GLOBAL and factories
    items: tuple = ()  # a tuple's members, for REDUCE's arguments


_MARK = _Obj("mark")
_UNKNOWN = _Obj(None)


def pickle_type(source: bytes | str | Path | IO[bytes]) -> str | None:
    """``module.qualname`` of the object a pickle builds, or None when its opcodes do not
    say. ``source``: the pickle's bytes, a path, or a binary file open at its start."""
    if isinstance(source, (bytes, bytearray)):
        return _type_from(io.BytesIO(source))
    if isinstance(source, (str, Path)):
        try:
            with open(source, "rb") as handle:
                return _type_from(handle)
        except OSError:  # a label: never a reason for a write or a listing to fail
            return None
    return _type_from(source)


def short_name(python_type: str | None) -> str | None:
    """``dict`` for ``builtins.dict``, ``DataFrame`` for ``pandas.core.frame.DataFrame``."""
    return python_type.rsplit(".", 1)[-1] if python_type else None


def _type_from(stream: IO[bytes]) -> str | None:
    try:
        result = _run(stream)
    except (ValueError, IndexError, KeyError, struct.error, EOFError, OSError):
        return None  # not a pickle, or one pickletools cannot follow
    return None if result is None or result.ref else result.kind


def _run(stream: IO[bytes]) -> _Obj | None:
    stack: list[_Obj] = []
    memo: dict[Any, _Obj] = {}
    protocol = 0
    for count, (op, arg) in enumerate(_opcodes(stream)):
        if count > MAX_OPCODES:
            return None
        name = op.name
        if name == "STOP":
            return stack[-1]
        if name == "PROTO":
            protocol = arg
        elif name == "FRAME":
            continue
        if name in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[arg] = stack[-1]
        elif name == "MEMOIZE":
            memo[len(memo)] = stack[-1]
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            stack.append(memo.get(arg, _UNKNOWN))
        elif name == "MARK":
            stack.append(_MARK)
        elif name == "DUP":
            stack.append(stack[-1])
        elif name in _IN_PLACE:
            if _IN_PLACE[name] == "mark":
                _pop_mark(stack)
            else:
                del stack[-_IN_PLACE[name]:]
        elif name == "GLOBAL":
            stack.append(_Obj(_global_name(arg, protocol), ref=True))
        elif name == "STACK_GLOBAL":
            attr, module = stack.pop(), stack.pop()
            stack.append(_Obj(f"{module.text}.{attr.text}", ref=True)
                         if module.text and attr.text else _Obj(None, ref=True))
        elif name in ("NEWOBJ", "NEWOBJ_EX"):
            if name == "NEWOBJ_EX":
                stack.pop()
            stack.pop()
            stack.append(_instance(stack.pop()))
        elif name == "REDUCE":
            args = stack.pop()
            stack.append(_reduce(stack.pop(), args))
        elif name == "INST":
            _pop_mark(stack)
            stack.append(_Obj(_global_name(arg, protocol)))
        elif name == "OBJ":
            stack.append(_instance((_pop_mark(stack) or [_UNKNOWN])[0]))
        elif name.startswith("TUPLE"):
            size = {"TUPLE1": 1, "TUPLE2": 2, "TUPLE3": 3}.get(name)
            members = _pop_mark(stack) if size is None else [stack.pop() for _ in range(size)][::-1]
            stack.append(_Obj("builtins.tuple", items=tuple(members)))
        else:
            _generic(op, arg, stack)
    return None  # no STOP: truncated


def _generic(op, arg, stack: list[_Obj]) -> None:
    """Pop and push as pickletools says the opcode does; name builtins by what it pushes."""
    before = [s.name for s in op.stack_before]
    if "mark" in before:
        _pop_mark(stack)
        before = before[:before.index("mark")]
    for _ in before:
        stack.pop()
    for pushed in op.stack_after:
        kind = _BUILTIN_OF_STACK_OBJECT.get(pushed.name)
        if pushed.name == "int_or_bool" and isinstance(arg, bool):
            kind = "builtins.bool"
        stack.append(_Obj(kind, text=arg if isinstance(arg, str) and kind == "builtins.str"
                          else None))


def _pop_mark(stack: list[_Obj]) -> list[_Obj]:
    """The items above the topmost mark, removed with the mark."""
    members: list[_Obj] = []
    while stack[-1] is not _MARK:
        members.append(stack.pop())
    stack.pop()
    return members[::-1]


def _global_name(arg: str, protocol: int) -> str:
    """``module.name`` of a GLOBAL or INST argument (``"module name"``); protocols 0-2
    carry Python 2 names (``__builtin__``, ``copy_reg``), which pickle maps back."""
    module, _, attr = arg.partition(" ")
    if protocol < 3:
        module, attr = _compat_pickle.NAME_MAPPING.get((module, attr), (module, attr))
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
    return f"{module}.{attr}"


def _instance(cls: _Obj) -> _Obj:
    return _Obj(cls.kind) if cls.ref else _UNKNOWN


def _reduce(func: _Obj, args: _Obj) -> _Obj:
    """What calling ``func(*args)`` builds, when its name tells."""
    name = func.kind if func.ref else None
    if name is None:
        return _UNKNOWN
    if name in _RESULT_OF:
        return _Obj(_RESULT_OF[name])
    if name in _FIRST_ARG_IS_CLASS and args.items:
        return _instance(args.items[0])
    if name in _CLASS_FACTORIES and len(args.items) > 1 and args.items[1].text:
        return _Obj(args.items[1].text, ref=True)  # the class's own module is not known here
    if name in _NUMPY_SCALAR and args.items:
        scalar = _NUMPY_SCALAR_NAMES.get(args.items[0].text or "")
        return _Obj(f"numpy.{scalar}" if scalar else None)
    if name == "numpy.dtype":  # keep the type code ("f8") for numpy scalars built on it
        return _Obj(name, text=args.items[0].text if args.items else None)
    if name in _LOWER_CASE_CLASSES or name.rsplit(".", 1)[-1][:1].isupper():
        return _Obj(name)
    return _UNKNOWN


def _opcodes(stream: IO[bytes]) -> Iterator[tuple[Any, Any]]:
    """(opcode, argument) pairs as pickletools.genops yields them, but with byte and
    string payloads longer than MAX_TEXT skipped (their argument is None)."""
    while True:
        code = stream.read(1)
        if not code:
            raise EOFError("pickle ends before STOP")
        op = pickletools.code2op.get(code.decode("latin-1"))
        if op is None:
            raise ValueError(f"not a pickle opcode: {code!r}")
        yield op, _argument(stream, op.arg)
        if op.name == "STOP":
            return


def _argument(stream: IO[bytes], descriptor) -> Any:
    if descriptor is None:
        return None
    prefix = _LENGTH_PREFIX.get(descriptor.n)
    if prefix is None:  # fixed size, or up to a newline: small
        return descriptor.reader(stream)
    raw = stream.read(struct.calcsize(prefix))
    (length,) = struct.unpack(prefix, raw)
    if length < 0:
        raise ValueError("negative length in pickle")
    if length > MAX_TEXT:
        stream.seek(length, io.SEEK_CUR)
        return None
    data = stream.read(length)
    if len(data) != length:
        raise EOFError("pickle ends inside an argument")
    return data.decode("utf-8", "surrogatepass") if "unicode" in descriptor.name else data
