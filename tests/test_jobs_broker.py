"""The embedded broker (jobs/embedded_broker.py) under crashes: a writer process killed with SIGKILL in the middle of
writing a message loses none of the messages it had sent, and a reader taking messages all the while never gets a
torn one. Real processes, real files, kombu's own client API."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from queue import Empty

import pytest
from kombu import Connection

from softskills.jobs.embedded_broker import READING, WRITING, Transport, prepare_folder
from softskills.jobs.queue import prune_embedded_broker

QUEUE = "softskills-jobs"
BLOB_BYTES = 2 * 1024 * 1024  # a message of a few MB takes milliseconds to write: long enough to be killed in

WRITER = """
import hashlib, os, sys
import pytest
from kombu import Connection
from softskills.jobs.embedded_broker import Transport

folder, number = sys.argv[1], int(sys.argv[2])
options = {"data_folder_in": folder, "data_folder_out": folder, "control_folder": folder + "/control"}
with Connection("filesystem://", transport=Transport, transport_options=options) as connection:
    queue = connection.SimpleQueue(sys.argv[3])
    while True:
        blob = os.urandom(int(sys.argv[4]) // 2).hex()
        queue.put({"n": number, "blob": blob, "sha256": hashlib.sha256(blob.encode()).hexdigest()})
        print(number, flush=True)  # sent: put() returned
        number += 1
"""


@pytest.fixture(autouse=True)
def fresh_broker_state():
    """kombu keeps a process's exchange bindings in memory, for one broker folder: each test has its own folder."""
    Transport.global_state.clear()


def connect(folder: Path) -> Connection:
    prepare_folder(folder)  # as jobs/queue.py does
    return Connection(
        "filesystem://",
        transport=Transport,
        transport_options={
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "control_folder": str(folder / "control"),
        },
    )


class Reader:
    """Takes messages off the queue on a thread until stopped, keeping each message's number, and every failure to
    read one (a torn message would be one)."""

    def __init__(self, folder: Path):
        self.connection = connect(folder)
        self.queue = self.connection.SimpleQueue(QUEUE)
        self.received: list[int] = []
        self.failures: list[str] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._read)
        self.thread.start()

    def take_one(self) -> bool:
        try:
            message = self.queue.get_nowait()
        except Empty:
            return False
        except Exception as exc:  # what a torn file gives
            self.failures.append(repr(exc))
            return True
        body = message.payload
        if hashlib.sha256(body["blob"].encode()).hexdigest() != body["sha256"]:
            self.failures.append(f"message {body['n']} does not match its checksum")
        self.received.append(body["n"])
        message.ack()
        return True

    def _read(self) -> None:
        while not self.stopped.is_set():
            if not self.take_one():
                time.sleep(0.005)

    def drain(self) -> None:
        self.stopped.set()
        self.thread.join()
        while self.take_one():
            pass
        self.connection.close()


def being_written(folder: Path, earlier: set[str]) -> bool:
    """Whether a file not in `earlier` has its first bytes in `folder`."""
    for entry in os.scandir(folder):
        try:
            if entry.name not in earlier and entry.stat().st_size > 0:
                return True
        except FileNotFoundError:  # renamed into the queue meanwhile
            pass
    return False


def kill_mid_write(folder: Path, first_number: int, sent_before: int) -> tuple[list[int], bool]:
    """Starts a writer and, once it has sent `sent_before` messages, SIGKILLs it the moment it is writing the next
    one; returns the numbers it had sent, and whether the kill left that message half-written."""
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(folder), str(first_number), QUEUE, str(BLOB_BYTES)],
        stdout=subprocess.PIPE,
        text=True,
    )
    sent = [int(writer.stdout.readline()) for _ in range(sent_before)]
    earlier = set(os.listdir(folder / WRITING))
    deadline = time.monotonic() + 60
    while not being_written(folder / WRITING, earlier):
        assert writer.poll() is None and time.monotonic() < deadline, "the writer never started a message"
        time.sleep(0.0005)
    os.kill(writer.pid, signal.SIGKILL)
    sent += [int(line) for line in writer.communicate(timeout=30)[0].split()]
    assert writer.returncode == -signal.SIGKILL
    return sent, bool(set(os.listdir(folder / WRITING)) - earlier)


def test_a_writer_killed_mid_write_loses_nothing_and_no_reader_sees_a_torn_message(tmp_path):
    folder = tmp_path / "queue"
    connect(folder).SimpleQueue(QUEUE).close()  # declares the queue and its exchange table
    reader = Reader(folder)
    sent, torn_writes = [], 0
    for round_number in range(20):
        numbers, left_partial = kill_mid_write(folder, round_number * 10_000, sent_before=round_number % 3)
        sent += numbers
        torn_writes += left_partial
        if torn_writes >= 3 and round_number >= 3:
            break
    reader.drain()
    assert torn_writes >= 3, "no kill landed while a message was being written"
    assert reader.failures == []  # never a torn or mixed-up message
    assert set(sent) <= set(reader.received)  # every message whose put() returned was delivered
    assert len(reader.received) == len(set(reader.received))  # once
    assert not list(folder.glob("*.msg")) and not any((folder / READING).iterdir())
    assert len(list((folder / WRITING).iterdir())) == torn_writes
    assert prune_embedded_broker(f"filesystem://{folder}", 0) == torn_writes  # the housekeeping deletes them
    assert not any((folder / WRITING).iterdir())


def test_a_message_whose_reader_died_after_claiming_it_goes_back_on_its_queue(tmp_path):
    folder = tmp_path / "queue"
    with connect(folder) as connection:
        connection.SimpleQueue(QUEUE).put({"job": "job_1"})
    (message,) = folder.glob(f"*.{QUEUE}.msg")
    os.rename(message, folder / READING / message.name)  # claimed, then the reader was killed
    assert prune_embedded_broker(f"filesystem://{folder}", 300) == 0  # a live reader holds it for milliseconds
    os.utime(folder / READING / message.name, (time.time() - 600, time.time() - 600))
    assert prune_embedded_broker(f"filesystem://{folder}", 300) == 1
    with connect(folder) as connection:
        assert connection.SimpleQueue(QUEUE).get(timeout=5).payload == {"job": "job_1"}


def test_exchange_tables_are_rewritten_whole(tmp_path):
    """The table of queues an exchange reaches is replaced by a whole new file, never edited in place."""
    folder = tmp_path / "queue"
    with connect(folder) as connection:
        for name in ("first", "second"):
            connection.SimpleQueue(name).close()
        channel = connection.default_channel
        tables = {path.name: json.loads(path.read_text()) for path in (folder / "control").glob("*.exchange")}
        assert sorted(queue for table in tables.values() for _, _, queue in table) == ["first", "second"]
        channel.queue_unbind("second", "second", "second")
        channel._delete("second", "second", "second", None)
        assert channel.get_table("second") == [] and [q.queue for q in channel.get_table("first")] == ["first"]
    assert not any((folder / "control" / WRITING).iterdir())
