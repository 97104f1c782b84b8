"""`python -m zeronas` runs the CLI."""

from zeronas.cli import main

main()
