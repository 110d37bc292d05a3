"""Item 7: start-up.  ``manualbp --help`` wall time, and what ``import manualbp`` / ``--help`` load."""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from .common import Row, fmt_time

HELP_TARGET = 0.3
HEAVY = ("torch", "jax", "jaxlib")

_PROBE = """
import json, sys
{code}
print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))
"""


def _command() -> list[str]:
    """The installed console script when there is one, else ``python -m oracles`` (same code path)."""
    script = Path(sys.executable).with_name("manualbp")
    found = script if script.exists() else shutil.which("manualbp")
    return [str(found)] if found else [sys.executable, "-m", "oracles"]


def _loaded(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", _PROBE.format(code=code)], capture_output=True, text=True,
                         timeout=120, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _help_modules() -> set[str]:
    """Modules imported by ``--help`` (python -X importtime on the console script's code path)."""
    argv = [sys.executable, "-X", "importtime", "-m", "oracles", "--help"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=True)
    return {line.rsplit("|", 1)[1].strip().split(".")[0]
            for line in out.stderr.splitlines() if line.startswith("import time:") and "|" in line}


def run(repeats: int = 9) -> list[Row]:
    """Median wall time of ``manualbp --help`` and the import checks."""
    cmd = _command()
    times = []
    subprocess.run([*cmd, "--help"], capture_output=True, check=True, timeout=120)  # warm the file cache
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([*cmd, "--help"], capture_output=True, check=True, timeout=120)
        times.append(time.perf_counter() - t0)
    t = statistics.median(times)
    t_py = statistics.median(_bare_python() for _ in range(repeats))
    rows = [
        Row("7 start-up", f"`{Path(cmd[0]).name}{' ' + ' '.join(cmd[1:]) if len(cmd) > 1 else ''} --help` wall time",
            fmt_time(t), f"< {HELP_TARGET} s", t < HELP_TARGET),
        Row("7 start-up", "bare `python -c pass` (the floor)", fmt_time(t_py)),
    ]
    for what, mods in (("import manualbp", _loaded("import manualbp")),
                       ("manualbp --help", _help_modules())):
        bad = sorted(mods & set(HEAVY))
        rows.append(Row("7 start-up", f"`{what}` imports torch/jax", ", ".join(bad) if bad else "neither",
                        "neither", not bad))
    return rows


def _bare_python() -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - t0
