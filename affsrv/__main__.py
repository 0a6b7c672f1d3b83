"""``python -m affsrv`` is the ``affsrv`` command."""

from affsrv.cli import main

main()
