"""`python -m trajforge` runs the command line."""

from trajforge.cli import main

if __name__ == "__main__":  # worker processes (spawn) import this module again: they must not start the CLI
    main()
