"""The stand-alone entry of a mounted tool: ``python -m workers.camera.refs`` parses the same
arguments and runs the same code as ``python -m workers refs``."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def tool_main(prog: str, doc: str | None, add_arguments: Callable[[argparse.ArgumentParser], None],
              run: Callable[[argparse.Namespace], int], argv: list[str] | None = None) -> int:
    """Parse ``argv`` with the tool's own arguments and run it; its exit code."""
    ap = argparse.ArgumentParser(prog=f"python -m {prog}", description=(doc or prog).splitlines()[0])
    add_arguments(ap)
    return run(ap.parse_args(argv))
