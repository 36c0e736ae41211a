"""A Jupyter kernel client that cannot sleep through a message the kernel has already sent.

`make demo` (tools/run_notebook.py) executes with it. `make install` also merges `jupyter_config.json` (this folder)
into the environment's etc/jupyter/ (`python -m tools.kernel_client --install-config`), where every Jupyter
application of the environment reads it: it sets NotebookClient.kernel_manager_class, so the executor of a teacher's
`jupyter nbconvert --to notebook --execute` uses this client without a new command (and nbgrader's and Voila's, which
build theirs from the same configuration; not tried here). Code that builds its own NotebookClient without the
configuration (`jupyter execute`, papermill, nbmake) can pass kernel_manager_class=WakingKernelManager. To run
nbconvert without it: --NotebookClient.kernel_manager_class=jupyter_client.manager.AsyncKernelManager

The hang (benchmarks/README.md, "Hangs"): the kernel had replied and the reply sat in the client's shell socket
(zmq.EVENTS said POLLIN), but the client's poll was never woken, so nbclient waited out the cell's whole time limit
(none by default) and then carried on. How the wake-up is lost:

1. zmq.asyncio wakes a waiting poll from the socket's ZMQ_FD, which is edge-triggered: any call into libzmq on that
   socket (send, recv, reading zmq.EVENTS) takes the signal, and only pyzmq's asyncio wrapper looks again afterwards.
2. jupyter_client's Session.send (8.0 onwards) sends through a blocking shadow of the asyncio socket, so nothing looks
   again after that send.
3. nbclient sends on the shell socket while it waits there for the cell's reply: its stand-in for an Output widget
   (what `interact` prints into) sends every output back to the kernel, from the task reading iopub.

So when a reply arrives while the client is still working through a cell's outputs and the next output is sent
before the event loop looks at the shell socket, the reply's wake-up is gone. `WakingChannel.send` reads zmq.EVENTS
through the asyncio socket after each send (pyzmq then wakes any poll waiting for a message that is already there);
its waits also end in a real poll at least every POLL_SLICE_S, so a wake-up lost any other way costs one second.
tests/test_kernel_client.py reproduces the lost wake-up with two sockets and checks both.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from queue import Empty

import zmq
from jupyter_client import AsyncKernelManager
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from traitlets import DottedObjectName, Type

CONFIG = Path(__file__).resolve().parent / "jupyter_config.json"
POLL_SLICE_S = 1.0  # the longest a client waits on a socket's wake-up before it looks for itself


def sliced(get_msg: Callable[..., Awaitable[dict]]) -> Callable[..., Awaitable[dict]]:
    """A channel's get_msg that waits at most POLL_SLICE_S at a time, until `timeout` (None: no limit).

    When a slice's timeout fires, pyzmq runs a real zmq_poll, which sees a message whose wake-up was lost.
    """

    async def get_msg_in_slices(timeout: float | None = None) -> dict:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = POLL_SLICE_S if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                return await get_msg(timeout=min(POLL_SLICE_S, left))
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    return get_msg_in_slices


class WakingChannel(AsyncZMQSocketChannel):
    """jupyter_client's asyncio channel, with sends that leave a waiting poll awake and waits cut into slices."""

    def send(self, msg: dict) -> None:
        super().send(msg)  # through a blocking shadow of self.socket, which may take a waiting poll's wake-up
        if not self.socket.closed:
            self.socket.get(zmq.EVENTS)  # on the asyncio socket: pyzmq wakes the poll if a message is waiting

    async def get_msg(self, timeout: float | None = None) -> dict:
        return await sliced(super().get_msg)(timeout)


class WakingKernelClient(AsyncKernelClient):
    """An AsyncKernelClient whose four message channels are WakingChannels."""

    shell_channel_class = Type(WakingChannel)
    iopub_channel_class = Type(WakingChannel)
    stdin_channel_class = Type(WakingChannel)
    control_channel_class = Type(WakingChannel)


class WakingKernelManager(AsyncKernelManager):
    """nbclient's default kernel manager, handing out WakingKernelClients (NotebookClient.kernel_manager_class)."""

    client_class = DottedObjectName("tools.kernel_client.WakingKernelClient")
    client_factory = Type(WakingKernelClient, klass=AsyncKernelClient)  # AsyncKernelManager's ignores client_class


def install_config(prefix: Path = Path(sys.prefix)) -> Path:
    """Merge jupyter_config.json into this environment's etc/jupyter/, where every Jupyter application here reads it."""
    target = prefix / "etc" / "jupyter" / CONFIG.name
    config = json.loads(target.read_text()) if target.exists() else {}  # keep what else it sets
    for section, settings in json.loads(CONFIG.read_text()).items():
        config.setdefault(section, {}).update(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(config, indent=2) + "\n")
    return target


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.kernel_client", description=__doc__.splitlines()[0])
    parser.add_argument("--install-config", action="store_true", help=install_config.__doc__)
    args = parser.parse_args(argv)
    if args.install_config:
        print(f"wrote {install_config()}")
    else:
        parser.print_help()


if __name__ == "__main__":
    main()
