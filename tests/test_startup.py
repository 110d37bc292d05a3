"""Start-up stays light: ``import manualbp`` and ``manualbp --help`` load neither torch nor jax.

Behavioural, not a timing test (the wall time is in ``python -m benchmarks``): each check runs in a
fresh interpreter and looks at what actually got imported.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

AUTODIFF = ("torch", "jax", "jaxlib")
HEAVY = ("matplotlib", "hypothesis", "dask", "distributed", "scipy")

_REPORT = """
import json, sys
print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))
"""


def _imported_after(code: str) -> set[str]:
    """Top-level module names present in sys.modules after running ``code`` in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", code + _REPORT], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _help_imports() -> tuple[set[str], str]:
    """Modules imported by ``python -m oracles --help`` (the console script's code path), and its output."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "oracles", "--help"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    names = set()
    for line in out.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names, out.stdout


def test_the_probe_sees_imports():
    """The probe itself works: importing torch shows up."""
    pytest.importorskip("torch")
    assert "torch" in _imported_after("import torch")


@pytest.mark.parametrize("code", ["import manualbp", "import manualbp.example; manualbp.example.seed_case()",
                                  "import oracles.cli; oracles.cli.build_parser()"])
def test_import_loads_no_autodiff(code):
    loaded = _imported_after(code)
    assert "numpy" in loaded or code.startswith("import oracles")
    assert not loaded & set(AUTODIFF), f"{code!r} imported {sorted(loaded & set(AUTODIFF))}"


def test_help_loads_no_autodiff_and_lists_commands():
    names, text = _help_imports()
    assert "oracles" in names and "argparse" in names  # the probe saw the real import tree
    assert not names & set(AUTODIFF), f"manualbp --help imported {sorted(names & set(AUTODIFF))}"
    assert "usage: manualbp" in text and "example" in text


def test_help_loads_no_heavy_tool():
    """The CLI rule: matplotlib, hypothesis, dask are imported inside the command that needs them."""
    names, _ = _help_imports()
    assert not names & set(HEAVY), f"manualbp --help imported {sorted(names & set(HEAVY))}"


def test_console_script_help_runs():
    """The installed ``manualbp`` entry point answers --help (same code path as python -m oracles)."""
    from pathlib import Path

    script = Path(sys.executable).with_name("manualbp")
    if not script.exists():
        pytest.skip("manualbp console script not installed in this environment")
    out = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "usage: manualbp" in out.stdout


def test_package_entry_points_are_lazy_and_real():
    import subprocess
    import sys

    code = ("import sys, oracles; assert 'torch' not in sys.modules and 'jax' not in sys.modules;"
            "from oracles import check, assert_backprop, audit_file, run_sweep, build_report, get_oracle;"
            "import oracles.checker as c; assert check is c.check and assert_backprop is c.assert_backprop")
    subprocess.run([sys.executable, "-c", code], check=True)
