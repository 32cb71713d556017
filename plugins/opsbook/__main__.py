"""`python -m opsbook`: the same as the `opsbook` command."""

from opsbook.cli import main

main()
