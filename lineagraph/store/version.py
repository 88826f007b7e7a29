"""Artifact versions and references, with LineaPy's rules (one parser for all callers)."""

from __future__ import annotations

from typing import Any, Optional, Union

ARTIFACT_MIN_VERSION = 0
ARTIFACT_MAX_VERSION = 2**63 - 1

# An artifact as callers name it: "name" (the latest version) or (name, version), with
# version None for the latest.
ArtifactRef = Union[str, tuple]


def parse_artifact_version(version: Any) -> Union[int, str]:
    """LineaPy's rules: an int >= 0 (ints, floats and numeric strings are cast), or
    the strings ``"all"`` / ``"latest"`` (any case)."""
    err_msg = (f"Version must be an int >={ARTIFACT_MIN_VERSION} or a string that is "
               "'all' or 'latest'")
    if isinstance(version, bool):
        raise ValueError(f"Version {version!r} could not be parsed\n{err_msg}")
    if isinstance(version, str):
        lowered = version.lower()
        if lowered in ("all", "latest"):
            return lowered
        try:
            version = int(float(lowered))
        except (ValueError, OverflowError):
            raise ValueError(
                f"Version string {version!r} could not be casted into a valid version "
                f"int\n{err_msg}"
            ) from None
    if isinstance(version, float):
        if version != version or version in (float("inf"), float("-inf")):
            raise ValueError(f"Version {version!r} could not be parsed\n{err_msg}")
        version = int(version)
    if isinstance(version, int):
        if version > ARTIFACT_MAX_VERSION:  # Neo4j integers are 64-bit
            raise ValueError(f"Version value {version} must be <={ARTIFACT_MAX_VERSION}")
        if version >= ARTIFACT_MIN_VERSION:
            return version
        raise ValueError(f"Version value {version} must be >={ARTIFACT_MIN_VERSION}\n{err_msg}")
    raise ValueError(f"Version {version!r} could not be parsed\n{err_msg}")



def parse_artifact_ref(ref: Any) -> tuple[str, Optional[int]]:
    """``"name"`` or ``(name, version)`` as (name, version); TypeError otherwise."""
    if isinstance(ref, str):
        return ref, None
    if isinstance(ref, (tuple, list)) and len(ref) == 2 and isinstance(ref[0], str):
        return ref[0], ref[1]
    raise TypeError(f"an artifact is a name or a (name, version) pair, not {ref!r}")
