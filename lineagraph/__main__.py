"""``python -m lineagraph``: the ``lineagraph`` command."""

from .cli import main

main()
