"""``python -m lineagraph ...`` runs the ``lineagraph`` command."""

from .cli import main

main()
