"""What `ketaclinic serve` needs around granian: a port that is really free, and workers that
die with their server.

granian's workers bind the port each with SO_REUSEPORT, so a second server started beside a
running one (or beside the orphaned workers of a killed one) binds too and the kernel shares
the connections between old and new code. `port_refusal` binds the address once without
SO_REUSEPORT, which the kernel refuses while anything listens there.

granian forks its workers; after SIGKILL of the main process nothing tells them, and they went
on serving (issue 18, item 11). `exit_with_server` (called by the WSGI module as each worker
loads the app) asks Linux to send the worker SIGTERM when its parent dies
(prctl PR_SET_PDEATHSIG), and exits at once if the parent is already gone.
"""

from __future__ import annotations

import ctypes
import errno
import os
import signal
import socket
import sys

SERVER_PID_ENV = "KETACLINIC_SERVER_PID"
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def port_refusal(host: str, port: int) -> str | None:
    """Why HOST:PORT cannot be served (in use, or not an address of this machine), or None."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR only lets us past connections in TIME_WAIT; Linux still refuses the
        # bind while a socket listens on the address, whatever that socket's options.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            sock.listen(1)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return (
                    f"{host}:{port} is already in use (another `ketaclinic serve`, or its "
                    "workers, may still be running: stop them first)"
                )
            return f"cannot listen on {host}:{port}: {error.strerror}"
    return None


def exit_with_server() -> None:
    """In a granian worker of `ketaclinic serve`: be sent SIGTERM when the server dies."""
    server_pid = os.environ.get(SERVER_PID_ENV, "")
    if not server_pid.isdigit() or int(server_pid) == os.getpid():
        return  # not a worker of `ketaclinic serve` (tests, other servers, the server itself)
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    # The server may have died before the call above: then we already belong to another parent.
    if os.getppid() != int(server_pid):
        os.kill(os.getpid(), signal.SIGTERM)
