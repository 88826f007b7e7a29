"""Literal values: their LineaPy type and an exact string encoding for Neo4j."""

from __future__ import annotations

import base64
from typing import (
    Any,
    Dict,
    Mapping,
)


from .base import LiteralType, coerce_enum



# --------------------------------------------------------------------------
# Literal values
# --------------------------------------------------------------------------

# Exact type checks: a subclass (IntEnum, numpy scalar, str subclass) would
# come back as its base type, so it cannot round-trip and is rejected.
_LITERAL_TYPES: Dict[type, LiteralType] = {
    str: LiteralType.String,
    bool: LiteralType.Boolean,
    int: LiteralType.Integer,
    float: LiteralType.Float,
    type(None): LiteralType.NoneType,
    type(Ellipsis): LiteralType.Ellipsis,
    bytes: LiteralType.Bytes,
}

# Decimal is readable, but CPython refuses to str()/int() decimals longer than
# 4300 digits by default; 10_000 bits is ~3011 digits, so past it we switch to
# hex, which has no such limit. Fixed, so decoding never depends on settings.
_MAX_DECIMAL_INT_BITS = 10_000


def get_type_of_literal_value(value: Any) -> LiteralType:
    """LineaPy's classifier, but strict: raises ``ValueError`` naming the type."""
    try:
        return _LITERAL_TYPES[type(value)]
    except KeyError:
        raise ValueError(
            f"unsupported literal type {type(value).__qualname__!r} "
            f"(value {value!r}); supported: str, int, float, bool, None, "
            "Ellipsis, bytes"
        ) from None


def encode_literal(value: Any) -> Dict[str, str]:
    """Encode a literal as ``{"value_type": <LiteralType name>, "value": <str>}``.

    Both are plain strings, so they fit any Neo4j property or JSON document.
    ``value`` equals LineaPy's ``str(value)`` for everything but bytes (base64
    here) and integers too large for decimal (``0x``-prefixed hex here).
    """
    literal_type = get_type_of_literal_value(value)
    if literal_type is LiteralType.Integer:
        text = str(value) if value.bit_length() <= _MAX_DECIMAL_INT_BITS else hex(value)
    elif literal_type is LiteralType.Float:
        # repr is the shortest exact form and gives 'nan', 'inf', '-0.0'.
        text = repr(value)
    elif literal_type is LiteralType.Bytes:
        text = base64.b64encode(value).decode("ascii")
    else:
        # str, bool ('True'/'False'), None ('None'), Ellipsis ('Ellipsis')
        text = str(value)
    return {"value_type": literal_type.name, "value": text}


def decode_literal(encoded: Mapping[str, Any]) -> Any:
    """Inverse of :func:`encode_literal`; raises ``ValueError`` on malformed input."""
    raw_type = encoded.get("value_type")
    literal_type = coerce_enum(LiteralType, raw_type)
    if not isinstance(literal_type, LiteralType):
        raise ValueError(f"unknown literal value_type {raw_type!r}")
    if literal_type is LiteralType.NoneType:
        return None
    if literal_type is LiteralType.Ellipsis:
        return ...
    text = encoded.get("value")
    if not isinstance(text, str):
        raise ValueError(
            f"encoded {literal_type.name} literal needs a str 'value', got {text!r}"
        )
    if literal_type is LiteralType.String:
        return text
    if literal_type is LiteralType.Boolean:
        if text == "True":
            return True
        if text == "False":
            return False
        raise ValueError(f"encoded Boolean literal must be 'True' or 'False', got {text!r}")
    if literal_type is LiteralType.Integer:
        unsigned = text[1:] if text.startswith("-") else text
        base = 16 if unsigned[:2].lower() == "0x" else 10
        return int(text, base)
    if literal_type is LiteralType.Float:
        return float(text)
    # Bytes; validate=True so stray characters are an error, not silently dropped.
    return base64.b64decode(text.encode("ascii"), validate=True)
