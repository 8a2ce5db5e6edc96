"""The server's commands of ``grimnir-sim``: ``serve``, ``token`` and ``schema``.

Each is registered through the ``grimnir_sim.commands`` entry point (see
pyproject.toml), so the ``playout`` package's command line finds them without
importing the server: ``serve``'s options in :mod:`server.cli.serve_options`,
what it does with them in :mod:`server.cli.serve` (and its banner in
:mod:`server.cli.banner`), ``token`` in :mod:`server.cli.token`, ``schema`` in
:mod:`server.cli.schema`.
"""

import argparse
from collections.abc import Callable

Handler = Callable[[argparse.Namespace], int]
"""What registering a command returns: the function that runs it."""
