"""``agentlog doctor``'s line on the AGENTLOG=true ``.pth`` hook: when it is missing, why and the fix (QA 16)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import child_env, run_python

from agentlog.commands import doctor


def fake_distribution(root: Path, editable: bool | None) -> None:
    """An ``agentlog`` dist-info under ``root``, as pip writes it (PEP 610 ``direct_url.json``)."""
    info = root / "agentlog-99.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: agentlog\nVersion: 99.0\n")
    if editable is not None:
        url = {"url": f"file://{root}", "dir_info": {"editable": True} if editable else {}}
        (info / "direct_url.json").write_text(json.dumps(url))


class TestHookLine:
    @pytest.mark.parametrize(("editable", "expected"), [(True, True), (False, False), (None, False)])
    def test_editable_install_detected(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       editable: bool | None, expected: bool) -> None:
        """pip's direct_url.json says whether the install is editable; no file means a regular install."""
        fake_distribution(tmp_path, editable)
        monkeypatch.syspath_prepend(str(tmp_path))
        assert doctor._editable_install() is expected

    def test_missing_after_editable_install_says_why(self, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
        """A missing hook after `pip install -e` names the cause and the fix."""
        monkeypatch.setattr(doctor, "_editable_install", lambda: True)
        line = doctor._hook_line(tmp_path / "agentlog-activate.pth")
        assert line.startswith(f"AGENTLOG=true hook: missing ({tmp_path / 'agentlog-activate.pth'}): ")
        assert "editable install (pip install -e) does not install it" in line and "`pip install .`" in line

    def test_missing_otherwise_says_reinstall(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(doctor, "_editable_install", lambda: False)
        line = doctor._hook_line(tmp_path / "agentlog-activate.pth")
        assert "reinstall agentlog" in line and "editable" not in line

    def test_installed(self, tmp_path: Path) -> None:
        pth = tmp_path / "agentlog-activate.pth"
        pth.write_text("import os\n")
        assert doctor._hook_line(pth) == f"AGENTLOG=true hook: installed ({pth})"


def test_doctor_prints_the_hook_line(tmp_path: Path) -> None:
    """The real command prints the line (the test venv has the hook: installed)."""
    done = run_python(["-m", "agentlog", "doctor"], tmp_path, child_env(tmp_path / "d"))
    assert done.returncode == 0, done.stderr
    [line] = [x for x in done.stdout.splitlines() if x.startswith("AGENTLOG=true hook: ")]
    assert line.startswith("AGENTLOG=true hook: installed (") and line.endswith("agentlog-activate.pth)")
