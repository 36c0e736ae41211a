"""tools.run_notebook: the client's waits end in a real poll at least every POLL_SLICE_S seconds."""

import asyncio
import time
from queue import Empty

import pytest

from tools import run_notebook


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
    reply = asyncio.run(asyncio.wait_for(run_notebook.sliced(channel.get_msg)(timeout=300), timeout=30))
    assert reply["msg_type"] == "execute_reply"
    assert time.monotonic() - start < 3 * run_notebook.POLL_SLICE_S
    assert all(t <= run_notebook.POLL_SLICE_S for t in channel.calls)


@pytest.mark.slow  # seconds of training or waiting: in make test, not make test-fast
def test_the_overall_timeout_still_ends_the_wait():
    async def never(timeout=None):
        await asyncio.sleep(timeout)
        raise Empty

    start = time.monotonic()
    with pytest.raises(Empty):
        asyncio.run(run_notebook.sliced(never)(timeout=2.5))
    assert 2.4 < time.monotonic() - start < 4


def test_the_executor_wraps_both_channels():
    assert run_notebook.SlicedPollExecutor.start_new_kernel_client is not (
        run_notebook.ExecutePreprocessor.start_new_kernel_client
    )
