"""``python -m gannet``: the same command line as the ``gannet`` console script."""

from gannet.cli.app import main

if __name__ == "__main__":
    main()
