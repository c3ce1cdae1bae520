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
#if PY_VERSION_HEX >= 0x030E0000
#define FIRST_NON_PYTHON_OWNER FRAME_OWNED_BY_INTERPRETER  /* then CSTACK (3.14 only) */
#else
#define FIRST_NON_PYTHON_OWNER FRAME_OWNED_BY_CSTACK
#endif
#include "internal/pycore_runtime.h"
int main(void) {
#if PY_VERSION_HEX >= 0x030D0000
    printf("%zu %zu %zu %zu %zu\n", offsetof(_Py_DebugOffsets, free_threaded),
           offsetof(_Py_DebugOffsets, thread_state.current_frame),
           offsetof(_Py_DebugOffsets, interpreter_frame.executable),
           offsetof(_Py_DebugOffsets, interpreter_frame.localsplus),
           offsetof(_Py_DebugOffsets, interpreter_frame.owner));
#else
    printf("none\n");
#endif
#if PY_VERSION_HEX < 0x030D0000
    printf("%zu %zu %zu %zu %d\n", offsetof(_PyInterpreterFrame, f_code), offsetof(_PyInterpreterFrame, owner),
           offsetof(_PyInterpreterFrame, localsplus), offsetof(PyThreadState, cframe), FIRST_NON_PYTHON_OWNER);
#else
    printf("%zu %zu %zu %zu %d\n", offsetof(_PyInterpreterFrame, f_executable),
           offsetof(_PyInterpreterFrame, owner), offsetof(_PyInterpreterFrame, localsplus),
           offsetof(PyThreadState, current_frame), FIRST_NON_PYTHON_OWNER);
#endif
    return 0;
}
"""


@pytest.mark.skipif(not HAVE_C, reason="agentlog._tracer not built")
def test_argument_capture_only_on_verified_versions() -> None:
    """The C engine reads frames on CPython 3.12 to 3.15 GIL builds only, and there it agrees with
    the offsets the interpreter publishes (3.13+)."""
    from agentlog import _tracer

    verified = (3, 12) <= sys.version_info[:2] <= (3, 15) and not sysconfig.get_config_var("Py_GIL_DISABLED")
    assert _tracer.ARGS_SUPPORTED is verified, _tracer.ARGS_OFF_REASON
    assert (_tracer.ARGS_OFF_REASON is None) is verified
    assert (_tracer.frame_layout() is not None) is verified
    published = _tracer.published_layout()
    if sys.version_info >= (3, 13) and verified:
        assert published["version"] == sys.hexversion and published["free_threaded"] == 0
        assert {k: published[k] for k in _tracer.frame_layout()} == _tracer.frame_layout()
    elif sys.version_info < (3, 13):
        assert isinstance(published, str) and "publishes no _Py_DebugOffsets" in published


@pytest.mark.skipif(not HAVE_C, reason="agentlog._tracer not built")
def test_mirror_matches_internal_headers(tmp_path: Path) -> None:
    """offsetof in the real _PyInterpreterFrame / PyThreadState / _Py_DebugOffsets equals what al_frame.h assumes."""
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
    debug_line, frame_line = subprocess.run(
        [str(tmp_path / "probe")], capture_output=True, text=True, timeout=30).stdout.splitlines()
    code, owner, localsplus, tstate_frame, first_other = map(int, frame_line.split())
    assert layout == {"code": code, "owner": owner, "localsplus": localsplus, "tstate_frame": tstate_frame}
    assert first_other == 3  # al_frame.h treats owner >= 3 as "not a Python frame"
    positions = _tracer.debug_offset_positions()
    if debug_line == "none":
        assert positions is None
    else:
        assert positions == tuple(map(int, debug_line.split()))
