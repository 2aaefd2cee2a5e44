"""take_acked acks a run only after the body finished it: a run still in the body when the agent
stops stays unacked (its offsets are never committed), where Faust's take_events acks it."""

from __future__ import annotations

import asyncio

import faust

from stream_processors.taking import take_acked


def _acks_after_stopping_mid_run(take) -> tuple[list[int], list[bool]]:
    """Six messages in runs of three; the body finishes the first run and is still working on
    the second when the agent is stopped. Returns the run sizes and each message's ack."""
    app = faust.App("taking-test", broker="kafka://127.0.0.1:1", web_enabled=False)  # never connects
    still_working = asyncio.Event()
    runs: list[int] = []

    @app.agent()
    async def agent(stream):
        async for run in take(stream):
            runs.append(len(run))
            if len(runs) > 1:
                await still_working.wait()  # never set: the stop cancels the body here

    async def main() -> list[bool]:
        async with agent.test_context() as ctx:
            events = [await ctx.put(i) for i in range(6)]
            for _ in range(100):
                if len(runs) == 2:
                    break
                await asyncio.sleep(0.02)
        return [e.message.acked for e in events]

    acks = asyncio.run(main())
    return runs, acks


def test_a_run_is_acked_only_after_the_body_finished_it():
    runs, acks = _acks_after_stopping_mid_run(lambda stream: take_acked(stream, 3, 0.05))
    assert runs == [3, 3]
    assert acks == [True, True, True, False, False, False]


def test_faust_take_events_acks_the_run_it_never_finished():
    """Why take_acked exists."""
    runs, acks = _acks_after_stopping_mid_run(lambda stream: stream.take_events(3, within=0.05))
    assert runs == [3, 3]
    assert acks == [True] * 6
