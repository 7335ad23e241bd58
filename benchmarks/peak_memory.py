"""The peak memory a benchmark reports for a process it measures, read inside that process.

    sys.path.insert(0, BENCHMARKS); from peak_memory import peak_mb

VmHWM of /proc/self/status: this process's own high-water mark of resident memory, which starts
afresh at exec. Not ru_maxrss: on Linux, exec keeps the exec'ing process's peak in it, so a
process started by a benchmark that has just made hundreds of workbooks would report the
benchmark's memory, not its own. Where there is no /proc (macOS), ru_maxrss is all there is.
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path

BENCHMARKS = str(Path(__file__).resolve().parent)  # for a measured process's sys.path


def peak_mb() -> float:
    """This process's peak resident memory, in MB."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 / (1024 if sys.platform == "darwin" else 1)  # bytes on macOS, kB on Linux
