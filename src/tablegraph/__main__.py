"""`python -m tablegraph`: the command line."""

from tablegraph.cli import main

main()
