"""The frame layout src_c/al_frame.h mirrors matches CPython's own headers for this interpreter."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

HAVE_C = importlib.util.find_spec("agentlog._tracer") is not None

# Compiled against the running interpreter's internal headers (what al_frame.h must agree with).
PROBE = r"""
#define Py_BUILD_CORE 1
#include <Python.h>
#include <stdio.h>
#include <stddef.h>
#include "internal/pycore_frame.h"
int main(void) {
#if PY_VERSION_HEX < 0x030D0000
    printf("%zu %zu %zu %zu %d\n", offsetof(_PyInterpreterFrame, f_code), offsetof(_PyInterpreterFrame, owner),
           offsetof(_PyInterpreterFrame, localsplus), offsetof(PyThreadState, cframe), FRAME_OWNED_BY_CSTACK);
#else
    printf("%zu %zu %zu %zu %d\n", offsetof(_PyInterpreterFrame, f_executable),
           offsetof(_PyInterpreterFrame, owner), offsetof(_PyInterpreterFrame, localsplus),
           offsetof(PyThreadState, current_frame), FRAME_OWNED_BY_CSTACK);
#endif
    return 0;
}
"""


@pytest.mark.skipif(not HAVE_C, reason="agentlog._tracer not built")
def test_argument_capture_only_on_verified_versions() -> None:
    """The C engine reads frames on CPython 3.12 and 3.13 GIL builds only."""
    from agentlog import _tracer

    verified = sys.version_info[:2] in ((3, 12), (3, 13)) and not sysconfig.get_config_var("Py_GIL_DISABLED")
    assert _tracer.ARGS_SUPPORTED is verified
    assert (_tracer.frame_layout() is not None) is verified


@pytest.mark.skipif(not HAVE_C, reason="agentlog._tracer not built")
def test_mirror_matches_internal_headers(tmp_path: Path) -> None:
    """offsetof in the real _PyInterpreterFrame / PyThreadState equals what al_frame.h assumes."""
    from agentlog import _tracer

    layout = _tracer.frame_layout()
    if layout is None:
        pytest.skip("no frame layout compiled for this interpreter")
    include = Path(sysconfig.get_paths()["include"])
    if not (include / "internal" / "pycore_frame.h").exists():
        pytest.skip("CPython's internal headers are not installed")
    cc = shutil.which((sysconfig.get_config_var("CC") or "cc").split()[0])
    if cc is None:
        pytest.skip("needs a C compiler")
    (tmp_path / "probe.c").write_text(PROBE)
    build = subprocess.run(
        [cc, f"-I{include}", f"-I{include / 'internal'}", "probe.c", "-o", "probe"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert build.returncode == 0, build.stderr
    out = subprocess.run([str(tmp_path / "probe")], capture_output=True, text=True, timeout=30).stdout.split()
    code, owner, localsplus, tstate_frame, cstack = map(int, out)
    assert layout == {"code": code, "owner": owner, "localsplus": localsplus, "tstate_frame": tstate_frame}
    assert cstack == 3  # al_frame.h treats owner >= 3 as "not a Python frame"
