"""Shared by the benchmarks: repo on sys.path, peak-memory probe, the closing JSON line."""

from __future__ import annotations

import json
import resource
import sys
from contextlib import suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def reset_peak_memory() -> None:
    """Reset the kernel's peak-RSS counter (Linux); elsewhere peaks are since process start."""
    with suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_memory_mib() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(figures: dict) -> None:
    """The benchmark's last line: one JSON object of its figures."""
    rounded = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in figures.items()}
    print(json.dumps(rounded, sort_keys=True))
