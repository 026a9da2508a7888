"""The ``openstack`` command line, each command in a process of its own that runs the CLI's ``main()``.

Most of a command's start-up (about 1.9 s of 2.1 s) is importing modules: the CLI's own, then the
module of every command of every plugin, which the CLI loads to build its command table. The
processes are forked from one server process that has imported them once (multiprocessing's
forkserver with a preload): each command still runs the unchanged ``main()`` with its own
arguments and environment, and starts with no client, session or cache of an earlier command, as
osc_lib keeps its clients on a class and only ``main()`` makes them. The server process imports
the CLI and this module alone, never Django.
"""

import functools
import multiprocessing
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path

_context = multiprocessing.get_context("forkserver")


@functools.cache
def _set_preload() -> None:
    """Before the server starts: the CLI's entry point and the modules of the commands it loads
    (every ``openstack.*`` entry point group)."""
    found = entry_points()
    groups = [group for group in found.groups if group.startswith("openstack.")]
    modules = sorted({ep.module for group in groups for ep in found.select(group=group)})
    _context.set_forkserver_preload(["openstackclient.shell", *modules])


def _command(argv: list[str], env: dict[str, str], out: str, err: str) -> None:
    """In the forked process: the environment and output a process of its own would have, then main()."""
    os.environ.clear()
    os.environ.update(env)
    for fd, path in ((1, out), (2, err)):
        with open(path, "wb") as file:
            os.dup2(file.fileno(), fd)
    from openstackclient.shell import main

    sys.exit(main(argv))


def run(argv: list[str], env: dict[str, str], folder: Path, timeout: float = 120) -> tuple[int, str, str]:
    """Run ``openstack <argv>`` with ``env``; return (exit status, stdout, stderr)."""
    _set_preload()
    out, err = folder / "stdout", folder / "stderr"
    process = _context.Process(target=_command, args=(argv, env, str(out), str(err)))
    process.start()
    process.join(timeout)
    if process.exitcode is None:
        process.kill()
        process.join()
        raise TimeoutError(f"openstack {' '.join(argv)} ran past {timeout} s")
    return process.exitcode, out.read_text(), err.read_text()
