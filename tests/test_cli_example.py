"""`manualbp example` prints the worked example from manualbp's own values."""

from __future__ import annotations

import json

import numpy as np

from oracles.cli import main
from tests import scalar_reference as ref


def test_example_json_matches_independent_reference(capsys):
    assert main(["example", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["network"] == {"widths": [3, 4, 4, 2], "activations": ["sigmoid"] * 3,
                               "cost": "half_mse", "dtype": "float64"}
    p = data["problem"]
    _, dW, db, _ = ref.sample_grads([p["W^(1)"], p["W^(2)"], p["W^(3)"]], [p["b^(1)"], p["b^(2)"], p["b^(3)"]],
                                    p["x"], p["y"], ["sigmoid"] * 3, "half_mse")
    steps = {s["symbol"]: s for s in data["steps"]}
    for L in (1, 2, 3):
        np.testing.assert_allclose(steps[f"∂C/∂W^({L})"]["value"], np.array(dW[L - 1], dtype=float), rtol=1e-12)
        np.testing.assert_allclose(steps[f"∂C/∂b^({L})"]["value"], np.array(db[L - 1], dtype=float), rtol=1e-12)
        s = steps[f"∂C/∂b^({L})"]
        np.testing.assert_array_equal(s["rounded"], np.round(s["value"], s["decimals"]))


def test_example_text_shows_every_step(capsys):
    assert main(["example"]) == 0
    out = capsys.readouterr().out
    for sym in ["z^(2)", "a^(4)", "δ^(4)", "σ'(z^(4))", "∂C/∂b^(3)", "∂C/∂W^(1)", "PROBLEM"]:
        assert sym in out


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out
