"""`python -m trajforge` runs the command line."""

from trajforge.cli import main

main()
