"""The embedded broker (`make serve`, no Redis): kombu's filesystem transport, made crash-safe.

kombu's own transport writes each message in place in the queue folder, without fsync, and its reader takes no
lock: a reader can take a message that is still being written, and a killed writer or a power cut leaves a torn
file, read as garbage and lost, so the job waited for the sweep's `requeue_after_s`. Here every message and every
exchange table (which queues a broadcast reaches) is written whole to a file of its own under `writing/`, fsynced,
then renamed into place and the folder fsynced: rename is atomic, so a reader finds the whole message or nothing,
and a message whose publish returned survives a crash. A reader claims a message by renaming it into `reading/`
(the same file system, where kombu's used /tmp), so two readers never take the same one.

What crashes leave behind is housekeeping for `prune_leftovers` (the sweep calls it through jobs/queue.py): a
partial file under `writing/` (its publish never returned: nothing acknowledged is lost) is deleted, and a message
under `reading/` whose reader died before reading it goes back on its queue.
"""

from __future__ import annotations

import fcntl
import os
import time
import uuid
from pathlib import Path
from queue import Empty

from kombu.exceptions import ChannelError
from kombu.transport import filesystem, virtual
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads
from kombu.utils.objects import cached_property

WRITING = "writing"
READING = "reading"


def write_whole(folder: Path, name: str, data: bytes) -> None:
    """`data` as folder/name, all of it or nothing, durably: written and fsynced under folder/writing/, renamed into
    place, and the rename fsynced."""
    partial = folder / WRITING / name
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            unwritten = memoryview(data)
            while unwritten:
                unwritten = unwritten[os.write(descriptor, unwritten) :]
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.rename(partial, folder / name)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ChannelError(f"Cannot add {name!r} to {folder}") from exc
    _fsync_folder(folder)


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def prepare_folder(folder: Path) -> Path:
    """`folder` with its writing/ and reading/ subfolders, private to this user."""
    for path in (folder, folder / WRITING, folder / READING):
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def prune_leftovers(folder: Path, older_than_s: float) -> int:
    """Deletes partial messages of writers that died mid-write, and puts back on their queue the messages of
    readers that died between claiming and reading them, when older than `older_than_s` (a live writer or reader
    holds its file for milliseconds). Returns how many it handled."""
    cutoff, handled = time.time() - older_than_s, 0
    for subfolder, destination in ((WRITING, None), (READING, folder), ("control/" + WRITING, None)):
        for path in (folder / subfolder).glob("*"):
            try:
                if path.stat().st_mtime >= cutoff:
                    continue
                if destination is None:
                    path.unlink()
                else:
                    os.rename(path, destination / path.name)
                handled += 1
            except FileNotFoundError:  # finished by its owner meanwhile
                pass
    return handled


class Channel(filesystem.Channel):
    """kombu's filesystem channel with whole-file writes and claims by rename (the module's docstring)."""

    @cached_property
    def _outgoing(self) -> Path:
        return prepare_folder(Path(self.data_folder_out))

    @cached_property
    def _incoming(self) -> Path:
        return prepare_folder(Path(self.data_folder_in))

    def _put(self, queue, payload, **kwargs):
        # The time first, zero-padded, so that the folder's sorted listing is the order messages were sent in.
        name = f"{time.time_ns():020d}_{uuid.uuid4().hex}.{queue}.msg"
        write_whole(self._outgoing, name, str_to_bytes(dumps(payload)))

    def _get(self, queue):
        folder = self._incoming
        wanted = f"{queue}.msg"
        for name in sorted(os.listdir(folder)):
            if name.partition(".")[2] != wanted:
                continue
            claimed = folder / READING / name
            try:
                os.rename(folder / name, claimed)
            except FileNotFoundError:  # another reader took it
                continue
            try:
                payload = claimed.read_bytes()
                claimed.unlink()
            except OSError as exc:
                raise ChannelError(f"Cannot read {claimed}") from exc
            return loads(bytes_to_str(payload))
        raise Empty()

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        entry = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        self._change_table(exchange, lambda table: table if entry in table else [entry, *table])

    def _delete(self, queue, exchange, routing_key, pattern, *args, **kwargs):
        virtual.Channel._delete(self, queue, exchange, routing_key, pattern, *args, **kwargs)  # purges the queue
        entry = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        self._change_table(exchange, lambda table: [bound for bound in table if bound != entry])

    def _change_table(self, exchange, change) -> None:
        """Rewrites an exchange's table whole (write_whole), one writer at a time (a lock file beside it)."""
        file = self._exchange_file(exchange)
        prepare_folder(file.parent)
        with open(file.with_name(file.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            table = self.get_table(exchange)
            changed = change(table)
            if changed != table:
                write_whole(file.parent, file.name, str_to_bytes(dumps(changed)))


class Transport(filesystem.Transport):
    """Celery's `broker_transport` for the embedded broker (jobs/queue.py sets it)."""

    Channel = Channel
