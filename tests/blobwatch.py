"""Counts the blobs an engine opens in an fs repository, with inotify.

On S3 or OSS each of those opens is a billed GET; in an fs repository it is
an open(2) of a file under the repository's location, which inotify sees
whatever process (the engine's JVM) makes it. Used by tests/test_scale.py
and bench/scale.py to count what the engine reads, not only what esfs sends.
"""
import ctypes
import ctypes.util
import os
import select
import struct

IN_OPEN = 0x00000020
_EVENT = struct.Struct("iIII")

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


class BlobWatch:
    """Opens of files right in one folder (the repository's root, where snap-*.dat are)."""

    def __init__(self, folder):
        self.fd = _libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        if _libc.inotify_add_watch(self.fd, os.fsencode(folder), IN_OPEN) < 0:
            err = ctypes.get_errno()
            os.close(self.fd)
            raise OSError(err, f"inotify_add_watch {folder}")
        self.opened = []

    def drain(self):
        """Reads the events so far; returns the names opened since the last call."""
        names = []
        while select.select([self.fd], [], [], 0)[0]:
            try:
                data = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                break
            at = 0
            while at < len(data):
                _, mask, _, length = _EVENT.unpack_from(data, at)
                name = data[at + _EVENT.size:at + _EVENT.size + length].rstrip(b"\0")
                at += _EVENT.size + length
                if mask & IN_OPEN and name:
                    names.append(os.fsdecode(name))
        self.opened.extend(names)
        return names

    def snapshot_blobs(self):
        """How many snap-*.dat opens there were since the last call."""
        return sum(1 for n in self.drain() if n.startswith("snap-") and n.endswith(".dat"))

    def close(self):
        os.close(self.fd)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
