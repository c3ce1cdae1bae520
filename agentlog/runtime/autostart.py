"""Imported by the ``agentlog-activate.pth`` hook when ``AGENTLOG`` is true."""

from agentlog.runtime.relaunch import resume

resume()
