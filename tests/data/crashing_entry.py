"""A source entry whose read kills the process, standing in for a decoder that segfaults."""

import os
from dataclasses import dataclass

from colorpast.data.sources import Entry


@dataclass(frozen=True)
class CrashingEntry(Entry):
    def read(self, max_bytes):
        os._exit(139)  # what a segfault in a C decoder looks like to the pool
