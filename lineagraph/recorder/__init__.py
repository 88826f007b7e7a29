"""Record a Python program's lineage as it runs (``lineagraph run``).

``rewrite`` turns the script's AST into one that reports to the recorder; ``tracer``
holds the hooks that build the node graph; ``objects``, ``effects`` and ``analysis``
decide what a call could have changed; ``sink`` is the only module that talks to the
store; ``api`` is what the program calls (``save``, ``get``...); ``prepare`` reads,
rewrites and compiles the script (in a forked child while ``lineagraph run`` imports the
store); ``runner`` runs it as ``python`` would.
"""
