"""``manualbp audit FILE``: formats and exit codes (1 with errors, 0 without, 2 on a usage error)."""

from __future__ import annotations

import json
from pathlib import Path

from oracles.cli import main

DERIV = Path(__file__).resolve().parents[1] / "examples" / "derivations"


def test_exit_codes_and_json(capsys):
    assert main(["audit", str(DERIV / "planted-bce-423.md"), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["findings"] and all(f["source"] == "audit" and f["where"]["line"] for f in data["findings"])
    assert main(["audit", str(DERIV / "correct-bce-423.md"), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["findings"] == []
    assert main(["audit", str(DERIV / "no-such-file.md")]) == 2


def test_markdown_html_and_text(capsys, tmp_path):
    src = str(DERIV / "planted-tanh-ng-231.md")
    assert main(["audit", src, "--format", "md"]) == 1
    assert "index" in capsys.readouterr().out
    out = tmp_path / "r.html"
    assert main(["audit", src, "--format", "html", "-o", str(out)]) == 1
    assert "<html" in out.read_text().lower()
    assert main(["audit", src, "--format", "text"]) == 1
    assert "sign" in capsys.readouterr().out


def test_text_output_prints_document_text_verbatim(capsys, monkeypatch):
    """Fails before: rich read '[l-1]' in the fix and '[numbers]' in a message as markup and dropped them."""
    monkeypatch.setenv("COLUMNS", "400")
    data = Path(__file__).resolve().parent / "data" / "audit"
    assert main(["audit", str(data / "bracket_layers.md")]) == 1
    out = capsys.readouterr().out
    assert "a^{[l-1]}" in out and "a^{}" not in out
    main(["audit", str(data / "unreadable_notation.md")])
    out = capsys.readouterr().out
    assert "W^{(l)} = [numbers]" in out
