"""tools.kernel_client: a reply that arrives while the client sends on the same socket still wakes the client's wait,
and every wait ends in a real poll at least every POLL_SLICE_S seconds.

The reference is jupyter_client's own channel, which loses that wake-up (benchmarks/README.md, "Hangs").
"""

import asyncio
import json
import select
import time
from pathlib import Path
from queue import Empty

import pytest
import zmq
import zmq.asyncio
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.session import Session
from nbconvert.preprocessors import ExecutePreprocessor
from traitlets.config.loader import JSONFileConfigLoader

from tools import kernel_client, run_notebook


async def woken_by_reply_during_send(channel_class) -> bool:
    """Whether the client's wait for a reply wakes when the reply arrives just before the client sends on the same
    socket, within one step of the event loop: what nbclient does when its Output widget stand-in sends an output
    back to the kernel (from the task reading iopub) while the shell reply comes in."""
    context = zmq.asyncio.Context()
    kernel = context.socket(zmq.ROUTER)
    client = context.socket(zmq.DEALER)
    try:
        client.connect(f"tcp://127.0.0.1:{kernel.bind_to_random_port('tcp://127.0.0.1')}")
        session = Session()
        channel = channel_class(client, session)
        channel.send(session.msg("execute_request"))
        identity, *_ = await kernel.recv_multipart()
        wait = asyncio.ensure_future(client.poll(10_000))  # nbclient's wait for the execute_reply
        await asyncio.sleep(0.05)
        # One step of another task, no await inside: the reply arrives, then the client sends a comm_msg
        zmq.Socket.shadow(kernel.underlying).send_multipart([identity, b"execute_reply"])
        deadline = time.monotonic() + 2
        while not select.select([client.FD], [], [], 0)[0] and time.monotonic() < deadline:
            time.sleep(0.001)  # until the reply's signal is on the client's ZMQ_FD
        time.sleep(0.01)  # past libzmq's throttle on processing commands during a send (about 1 ms)
        channel.send(session.msg("comm_msg"))
        done, _ = await asyncio.wait([wait], timeout=0.5)
        wait.cancel()
        return wait in done
    finally:
        client.close(linger=0)
        kernel.close(linger=0)
        context.term()


def test_jupyter_clients_channel_sleeps_through_the_reply():
    """The reference: if this fails, jupyter_client no longer loses the wake-up and WakingChannel.send can go."""
    assert not asyncio.run(woken_by_reply_during_send(AsyncZMQSocketChannel))


def test_the_waking_channel_wakes_for_the_reply():
    assert asyncio.run(woken_by_reply_during_send(kernel_client.WakingChannel))


class MissedWakeup:
    """A channel whose reply has arrived, but whose poll is never woken: it only ends at its timeout,
    when (as pyzmq does) a real poll finds the message."""

    def __init__(self):
        self.calls = []

    async def get_msg(self, timeout=None):
        self.calls.append(timeout)
        if timeout is None:
            await asyncio.sleep(3600)  # no wake-up will come
        await asyncio.sleep(timeout)
        if len(self.calls) < 2:
            raise Empty
        return {"msg_type": "execute_reply"}


@pytest.mark.slow  # seconds of training or waiting: in make test, not make test-fast
def test_a_missed_wakeup_costs_at_most_two_slices():
    channel = MissedWakeup()
    start = time.monotonic()
    reply = asyncio.run(asyncio.wait_for(kernel_client.sliced(channel.get_msg)(timeout=300), timeout=30))
    assert reply["msg_type"] == "execute_reply"
    assert time.monotonic() - start < 3 * kernel_client.POLL_SLICE_S
    assert all(t <= kernel_client.POLL_SLICE_S for t in channel.calls)


@pytest.mark.slow  # seconds of training or waiting: in make test, not make test-fast
def test_the_overall_timeout_still_ends_the_wait():
    async def never(timeout=None):
        await asyncio.sleep(timeout)
        raise Empty

    start = time.monotonic()
    with pytest.raises(Empty):
        asyncio.run(kernel_client.sliced(never)(timeout=2.5))
    assert 2.4 < time.monotonic() - start < 4


def test_the_jupyter_config_gives_nbconvert_the_waking_client():
    config = JSONFileConfigLoader(kernel_client.CONFIG.name, path=str(kernel_client.CONFIG.parent)).load_config()
    manager = ExecutePreprocessor(config=config).kernel_manager_class(kernel_name="python3")
    assert isinstance(manager, kernel_client.WakingKernelManager)
    client = manager.client()
    channels = {getattr(client, f"{name}_channel_class") for name in ("shell", "iopub", "stdin", "control")}
    assert channels == {kernel_client.WakingChannel}


def test_make_demo_uses_the_same_client():
    assert run_notebook.SlicedPollExecutor().kernel_manager_class is kernel_client.WakingKernelManager


def test_install_config_merges_into_the_environments_config(tmp_path: Path):
    written = kernel_client.install_config(tmp_path)
    assert written == tmp_path / "etc" / "jupyter" / "jupyter_config.json"
    assert json.loads(written.read_text()) == json.loads(kernel_client.CONFIG.read_text())
    written.write_text(json.dumps({"ServerApp": {"port": 9999}, "NotebookClient": {"timeout": 600}}))
    kernel_client.install_config(tmp_path)
    config = json.loads(written.read_text())
    assert config["ServerApp"] == {"port": 9999}
    assert config["NotebookClient"]["timeout"] == 600
    assert config["NotebookClient"]["kernel_manager_class"] == "tools.kernel_client.WakingKernelManager"
