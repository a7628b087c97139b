"""Timing of one NSQ consumer by sampling nsqd's channel counters.

A sampler thread reads `/stats` for one channel every `interval` seconds.
Consumption starts with the first sample in which the backlog has shrunk
or a message is in flight, and ends with the first sample in which nothing
is left in the channel, or with the first sample at the end of an optional
window that limits a slow consumer's time. The measured time is therefore
accurate to about one interval at each end.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from dataclasses import dataclass

import orjson


@dataclass(slots=True)
class ChannelTiming:
    """Times and counters of one consumer, from the last sample after the start.

    `finished` counts the messages that left the channel, which only a FIN
    does, so it stays right when a consumer reconnects and its client counters restart.
    """

    started_at: float | None = None
    drained_at: float | None = None
    # The sample at the end of the window, when the window ended before the channel was drained.
    window_ended_at: float | None = None
    finished: int = 0
    requeued: int = 0
    timed_out: int = 0

    @property
    def seconds(self) -> float:
        """Return the seconds from the start until the channel was drained or the window ended."""
        ended_at = self.drained_at if self.drained_at is not None else self.window_ended_at
        if self.started_at is None or ended_at is None:
            raise ValueError("the channel was neither drained nor timed for a whole window")
        return ended_at - self.started_at


def channel_counters(nsqd_http_address: str, topic: str, channel: str) -> dict | None:
    url = f"http://{nsqd_http_address}/stats?format=json&topic={topic}&channel={channel}&include_mem=false"
    with urllib.request.urlopen(url, timeout=10) as answer:
        stats = orjson.loads(answer.read())
    for topic_stats in stats.get("topics") or []:
        for channel_stats in topic_stats.get("channels") or []:
            if topic_stats["topic_name"] == topic and channel_stats["channel_name"] == channel:
                return channel_stats
    return None


class ChannelTimer:
    """Samples one channel in a thread until it is drained of `messages` messages or `timeout` passes.

    With a `window` in seconds, sampling also ends `window` seconds after the
    consumption started, and the timing counts what was FINished until then.
    """

    def __init__(self, nsqd_http_address: str, topic: str, channel: str, messages: int,
                 timeout: float, interval: float = 0.02, window: float | None = None) -> None:
        self._address = nsqd_http_address
        self._topic = topic
        self._channel = channel
        self._messages = messages
        self._timeout = timeout
        self._interval = interval
        self._window = window
        self.timing = ChannelTiming()
        self._stop_event = threading.Event()
        self._thread = threading.Thread(target=self._sample, name=f"timer {channel}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> ChannelTiming:
        """Stop sampling and return what was seen so far."""
        self._stop_event.set()
        self._thread.join(10)
        return self.timing

    def wait(self) -> ChannelTiming:
        """Wait for the sampler and return the timing.

        Raise TimeoutError if the channel was neither drained nor timed for a whole window.
        """
        self._thread.join(self._timeout + 10)
        if self.timing.drained_at is None and self.timing.window_ended_at is None:
            raise TimeoutError(
                f"channel {self._topic}/{self._channel} was not drained of {self._messages} messages "
                f"within {self._timeout} s"
            )
        return self.timing

    def _sample(self) -> None:
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline and not self._stop_event.is_set():
            counters = channel_counters(self._address, self._topic, self._channel)
            now = time.monotonic()
            if counters is not None:
                left = counters["depth"] + counters["in_flight_count"] + counters["deferred_count"]
                if self.timing.started_at is None and (left < self._messages or counters["in_flight_count"]):
                    self.timing.started_at = now
                if self.timing.started_at is not None:
                    self._count(counters, left)
                    if left == 0:
                        self.timing.drained_at = now
                        return
                    if self._window is not None and now - self.timing.started_at >= self._window:
                        self.timing.window_ended_at = now
                        return
            self._stop_event.wait(self._interval)

    def _count(self, counters: dict, left: int) -> None:
        self.timing.finished = self._messages - left
        self.timing.requeued = counters["requeue_count"]
        self.timing.timed_out = counters["timeout_count"]
