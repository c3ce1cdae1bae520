"""Build script: the Cython hot path is optional, the `.pth` activation hook is not.

If Cython or a C compiler is missing, or compiling fails, the package still
installs and runs on its pure-Python engine (``agentlog doctor`` says why).
Set ``AGENTLOG_REQUIRE_EXTENSION=1`` to make a failed build an error instead.
"""

import os
import sys
import sysconfig
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

HERE = Path(__file__).parent
PTH_NAME = "agentlog-activate.pth"
# One environment lookup when AGENTLOG is unset; `site` has already imported os.
PTH_LINE = (
    "import os; os.environ.get('AGENTLOG', '').lower() in ('1', 'true', 'yes', 'on') "
    "and __import__('agentlog.runtime.autostart')\n"
)
REQUIRE_EXTENSION = os.environ.get("AGENTLOG_REQUIRE_EXTENSION") == "1"
# A free-threaded CPython (3.13t+) gets no extension: importing one not declared
# free-threading safe re-enables the GIL with a warning on the program's stderr, and
# the trail does not run there anyway (crash capture only; agentlog doctor says so).
FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def extensions() -> list[Extension]:
    """One extension per ``src_c/*.pyx``; none if Cython is unavailable or the build is free-threaded."""
    sources = sorted((HERE / "src_c").glob("*.pyx"))
    if not sources:
        return []
    if FREE_THREADED:
        print("agentlog: free-threaded CPython: installing without the C extension", file=sys.stderr)
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        if REQUIRE_EXTENSION:
            raise
        print("agentlog: Cython not available, installing the pure-Python engine", file=sys.stderr)
        return []
    exts = [
        Extension(
            f"agentlog._{src.stem.lstrip('_')}",
            [str(src.relative_to(HERE))],
            include_dirs=["src_c"],
        )
        for src in sources
    ]
    # Never compile with profile/linetrace: the tracer must not trace itself.
    return cythonize(
        exts,
        language_level=3,
        compiler_directives={
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "profile": False,
            "linetrace": False,
        },
        quiet=True,
    )


class OptionalBuildExt(build_ext):
    """Compile the extension if possible; fall back to pure Python otherwise."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - any build failure means "use the fallback"
            self._skip(exc)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001
            self._skip(exc)

    def _skip(self, exc: Exception) -> None:
        if REQUIRE_EXTENSION:
            raise exc
        print(f"agentlog: building the C extension failed ({exc}); using pure Python", file=sys.stderr)


class BuildPyWithPth(build_py):
    """Put the activation ``.pth`` file at the root of site-packages."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / PTH_NAME
        target.write_text(PTH_LINE, encoding="utf-8")

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return [*super().get_outputs(include_bytecode), str(Path(self.build_lib) / PTH_NAME)]


setup(
    ext_modules=extensions(),
    cmdclass={"build_ext": OptionalBuildExt, "build_py": BuildPyWithPth},
)
