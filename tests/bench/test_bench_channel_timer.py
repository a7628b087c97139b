"""bench.channel_timer: timing one consumer from nsqd's channel counters, on a real nsqd."""

from __future__ import annotations

import subprocess

import pytest

from bench.channel_timer import ChannelTimer, ChannelTiming
from devtools.procs import Nsqd, tool

TOPIC = "heartBeat"
CHANNEL = "timed"
MESSAGES = 20


def publish_backlog(nsqd: Nsqd) -> None:
    nsqd.create_channel(TOPIC, CHANNEL)
    nsqd.publish_many(TOPIC, [f'{{"n":{index}}}'.encode() for index in range(MESSAGES)])


def consume(nsqd: Nsqd, count: int) -> None:
    """Consume `count` messages with nsq_tail, which exits after printing them."""
    subprocess.run(
        [str(tool("nsq_tail")), f"--topic={TOPIC}", f"--channel={CHANNEL}", f"--nsqd-tcp-address={nsqd.tcp_address}",
         f"-n={count}", f"--max-in-flight={count}"],
        check=True, capture_output=True, timeout=30,
    )


def test_channel_timing_seconds_until_drained() -> None:
    timing = ChannelTiming(started_at=10.0, drained_at=12.5)

    assert timing.seconds == 2.5


def test_channel_timing_seconds_until_window_ended() -> None:
    timing = ChannelTiming(started_at=10.0, window_ended_at=30.0)

    assert timing.seconds == 20.0


def test_channel_timing_seconds_without_end_raises() -> None:
    with pytest.raises(ValueError, match="neither drained nor timed"):
        ChannelTiming(started_at=10.0).seconds


def test_channel_timer_window_ends_undrained_channel(nsqd: Nsqd) -> None:
    publish_backlog(nsqd)
    timer = ChannelTimer(nsqd.http_address, TOPIC, CHANNEL, MESSAGES, timeout=30, window=1.0)
    timer.start()

    consume(nsqd, 5)
    timing = timer.wait()

    assert timing.drained_at is None
    assert timing.window_ended_at is not None
    assert timing.seconds >= 1.0
    # nsq_tail exits before FINishing its last messages, which nsqd then puts back into the channel.
    assert 0 <= timing.finished <= 5


def test_channel_timer_without_window_times_out_undrained_channel(nsqd: Nsqd) -> None:
    publish_backlog(nsqd)
    timer = ChannelTimer(nsqd.http_address, TOPIC, CHANNEL, MESSAGES, timeout=1.5)
    timer.start()

    consume(nsqd, 5)

    with pytest.raises(TimeoutError, match=f"not drained of {MESSAGES} messages"):
        timer.wait()
