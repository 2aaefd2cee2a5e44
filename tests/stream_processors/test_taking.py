"""take_acked acks a run only after the body finished it: a run still in the body when the agent
stops stays unacked (its offsets are never committed), where Faust's take_events acks it."""

from __future__ import annotations

import asyncio
import threading

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


class _Broker:
    """Stands in for the broker's delivery reports: each send returns a future settled later."""

    def __init__(self):
        self.deliveries: list[asyncio.Future] = []

    async def send(self, **kwargs):
        future = asyncio.get_running_loop().create_future()
        self.deliveries.append(future)
        return future


def _sending_agent(name: str):
    """An app whose agent takes runs of three and sends one message per event through
    ``delivery.send`` to a :class:`_Broker`."""
    from stream_processors import delivery

    app = faust.App(name, broker="kafka://127.0.0.1:1", web_enabled=False)
    broker = _Broker()

    @app.agent()
    async def agent(stream):
        async for run in take_acked(stream, 3, 0.05):
            for event in run:
                await delivery.send(broker, value=event.value)

    return app, agent, broker


def _run_with_deliveries(settle) -> tuple[list[list[bool]], faust.App]:
    """Three messages in one run; the body sends one message per event through
    ``delivery.send``. ``settle(deliveries)`` decides the delivery reports. Returns the acks seen
    before and after settling, and the app."""
    app, agent, broker = _sending_agent("delivery-test")

    async def main() -> list[list[bool]]:
        seen = []
        async with agent.test_context() as ctx:
            events = [await ctx.put(i) for i in range(3)]
            for _ in range(100):
                if len(broker.deliveries) == 3:
                    break
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.05)  # the body is done; the run waits for its deliveries
            seen.append([e.message.acked for e in events])
            settle(broker.deliveries)
            await asyncio.sleep(0.1)
            seen.append([e.message.acked for e in events])
        return seen

    seen = asyncio.run(main())
    return seen, app


def test_a_run_is_acked_only_after_the_broker_has_what_it_sent():
    seen, app = _run_with_deliveries(lambda ds: [d.set_result("ok") for d in ds])
    assert seen == [[False] * 3, [True] * 3]
    assert app.crash_reason is None


def test_a_send_the_broker_refused_leaves_the_run_unacked_and_stops_the_worker():
    def refuse_one(deliveries):
        deliveries[0].set_result("ok")
        deliveries[1].set_exception(RuntimeError("MessageSizeTooLargeError"))
        deliveries[2].set_result("ok")

    from stream_processors.delivery import DeliveryFailed

    seen, app = _run_with_deliveries(refuse_one)
    assert seen == [[False] * 3, [False] * 3]
    reason = app.crash_reason
    assert isinstance(reason, DeliveryFailed)
    assert "1 of 3 messages" in str(reason) and "MessageSizeTooLargeError" in str(reason)
    # only a worker process ends itself when its stop hangs: this one (the tests') must go on
    assert not [t for t in threading.enumerate() if t.name == "ailedger-stop-deadline"]


def test_runs_are_acked_in_order_even_when_a_later_run_is_delivered_first():
    """The body goes on with the next run while the last one waits for the broker; a later run
    delivered first is still acked only after the earlier one (the acked offsets stay a prefix)."""
    app, agent, broker = _sending_agent("order-test")

    async def settle_and_look(ctx, events, deliveries) -> list[bool]:
        for d in deliveries:
            d.set_result("ok")
        await asyncio.sleep(0.1)
        return [e.message.acked for e in events]

    async def main() -> list[list[bool]]:
        async with agent.test_context() as ctx:
            events = [await ctx.put(i) for i in range(6)]
            for _ in range(100):  # both runs reach the broker: the body did not wait for the first
                if len(broker.deliveries) == 6:
                    break
                await asyncio.sleep(0.02)
            later = await settle_and_look(ctx, events, broker.deliveries[3:])
            both = await settle_and_look(ctx, events, broker.deliveries[:3])
        return [later, both]

    later, both = asyncio.run(main())
    assert later == [False] * 6
    assert both == [True] * 6
