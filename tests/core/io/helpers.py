"""Run code in a fresh interpreter, and measure its peak memory there."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# Peak memory: the kernel's high-water mark of resident memory (VmHWM), reset after the setup
# (writing 5 to /proc/self/clear_refs). ru_maxrss cannot be used: on Linux it carries over the
# parent's peak through fork and exec. Where the reset is not allowed, a thread samples VmRSS.
_TEMPLATE = """\
import json, sys, threading, time
sys.path.insert(0, {root!r})
{setup}


def _status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(key)


try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    _sampled = None
except OSError:
    _sampled = [0.0]

    def _sample():
        while True:
            _sampled[0] = max(_sampled[0], _status("VmRSS"))
            time.sleep(0.0005)

    threading.Thread(target=_sample, daemon=True).start()
_base = _status("VmRSS")
{work}
_peak = _status("VmHWM") if _sampled is None else max(_sampled[0], _status("VmRSS"))
print(json.dumps({{"base_mb": _base, "peak_mb": _peak, "delta_mb": _peak - _base, **result}}))
"""


def run_python(code: str, timeout: float = 120) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout


def measure(setup: str, work: str) -> dict:
    """Run `setup` (imports), then `work`, which must leave a JSON-able dict in `result`, in a
    fresh interpreter; return that dict with base_mb, peak_mb and delta_mb added (delta: the peak
    resident memory above what the interpreter held after `setup`)."""
    code = _TEMPLATE.format(root=str(ROOT), setup=textwrap.dedent(setup),
                            work=textwrap.dedent(work))
    result = json.loads(run_python(code).strip().splitlines()[-1])
    print("MEASURED", result)
    return result
