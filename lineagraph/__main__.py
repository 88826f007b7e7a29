"""``python -m lineagraph``: the ``lineagraph`` command."""

from .launch import main

main()
