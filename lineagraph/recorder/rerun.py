"""Run a program (a slice, say) as plain Python and keep the last value it saves under a
name: ``python -m lineagraph.recorder.rerun CODE NAME OUT``.

``lineagraph.save`` and ``lineapy.save`` (the shim) only hand the value back here;
nothing is recorded or stored. OUT receives a cloudpickle of ``("ok", value)``, or of
``("missing", [names saved])`` when the program never saved NAME. Used to check that a
slice recomputes its artifact (the tests and benchmarks/recorder_fidelity.py).
"""

from __future__ import annotations

import pickle
import sys

import cloudpickle

import lineagraph

from . import api


def main(argv: list[str]) -> None:
    code, name, out = argv
    captured: dict[str, list] = {}

    def save(value, artifact_name):
        captured.setdefault(artifact_name, []).append(value)

    shim = api.lineapy_shim()
    shim.save = save
    sys.modules["lineapy"] = shim
    lineagraph.save = save
    sys.argv = [code]
    with open(code, encoding="utf-8") as handle:
        source = handle.read()
    # dont_inherit: the slice compiled as Python compiles a script, without our __future__
    exec(compile(source, code, "exec", dont_inherit=True),
         {"__name__": "__main__", "__file__": code})
    with open(out, "wb") as handle:
        if name in captured:
            cloudpickle.dump(("ok", captured[name][-1]), handle)
        else:
            pickle.dump(("missing", sorted(captured)), handle)


if __name__ == "__main__":
    main(sys.argv[1:])
