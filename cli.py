"""Run semhash's command line from a checkout: ``python cli.py query "text"``."""

from semhash.cli import cli, main

__all__ = ["cli", "main"]

if __name__ == "__main__":
    main()
