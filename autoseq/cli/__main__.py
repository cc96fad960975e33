"""``python -m autoseq.cli``."""

from autoseq.cli import main

main()
