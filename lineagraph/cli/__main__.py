"""``python -m lineagraph.cli``."""

from . import main

main()
