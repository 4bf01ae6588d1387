"""``python -m rnnlab``: the same command line as ``rnnlab``."""

from rnnlab.cli import main

if __name__ == "__main__":
    main()
