#!/usr/bin/env python3
"""Run a Cloister guest from Python through libcloister_pal, with ctypes.

    run_guest.py [--lib LIBRARY] [--instance DIR] [--timeout SECONDS] PATH [ARGS...]

LIBRARY defaults to $CLOISTER_PAL_LIB, else .build/pal/libcloister_pal.so (what `make pal`
builds). With --timeout, a timer thread kills the guest with SIGKILL when it runs too long:
cloister_pal_kill may be called from any thread while cloister_pal_exec blocks. Exits like
`cloister run`: the guest's code, 128+N when signal N ended it, 127 when it cannot start.
"""
import argparse
import ctypes
import os
import sys
import threading
from pathlib import Path

SIGKILL = 9  # CLOISTER_SIGKILL in cloister.h


# The structures of cloister_pal_api.h, field for field.
class Attr(ctypes.Structure):
    _fields_ = [("instance_dir", ctypes.c_char_p), ("log_level", ctypes.c_char_p)]


class StdioFds(ctypes.Structure):
    _fields_ = [("stdin_fd", ctypes.c_int32), ("stdout_fd", ctypes.c_int32), ("stderr_fd", ctypes.c_int32)]


class CreateProcessArgs(ctypes.Structure):
    _fields_ = [
        ("path", ctypes.c_char_p),
        ("argv", ctypes.POINTER(ctypes.c_char_p)),
        ("env", ctypes.POINTER(ctypes.c_char_p)),
        ("stdio", ctypes.POINTER(StdioFds)),
        ("pid", ctypes.POINTER(ctypes.c_int32)),
    ]


class ExecArgs(ctypes.Structure):
    _fields_ = [("pid", ctypes.c_int32), ("exit_value", ctypes.POINTER(ctypes.c_int32))]


class PAL:
    """The six functions of the library; a failed call raises OSError with the errno."""

    def __init__(self, path):
        self.lib = ctypes.CDLL(str(path), use_errno=True)
        for name in ("init", "create_process", "exec", "kill", "destroy"):
            getattr(self.lib, "cloister_pal_" + name).restype = ctypes.c_int

    def _check(self, result, what):
        if result != 0:
            code = ctypes.get_errno()
            raise OSError(code, f"{what}: {os.strerror(code)}")

    def version(self):
        return self.lib.cloister_pal_get_version()

    def init(self, instance_dir, log_level=None):
        attr = Attr(instance_dir.encode(), log_level.encode() if log_level else None)
        self._check(self.lib.cloister_pal_init(ctypes.byref(attr)), "cloister_pal_init")

    def create_process(self, path, argv, env):
        def c_strings(strings):  # a NULL-terminated char *[]
            return (ctypes.c_char_p * (len(strings) + 1))(*[s.encode() for s in strings], None)

        pid = ctypes.c_int32()
        args = CreateProcessArgs(path.encode(), c_strings(argv), c_strings(env), None, ctypes.pointer(pid))
        self._check(self.lib.cloister_pal_create_process(ctypes.byref(args)), "cloister_pal_create_process")
        return pid.value

    def exec(self, pid):
        """Runs the process until it ends (ctypes releases the GIL meanwhile); the wait status."""
        status = ctypes.c_int32()
        args = ExecArgs(pid, ctypes.pointer(status))
        self._check(self.lib.cloister_pal_exec(ctypes.byref(args)), "cloister_pal_exec")
        return status.value

    def kill(self, pid, sig):
        self._check(self.lib.cloister_pal_kill(pid, sig), "cloister_pal_kill")

    def destroy(self):
        self._check(self.lib.cloister_pal_destroy(), "cloister_pal_destroy")


def main():
    default_lib = os.environ.get("CLOISTER_PAL_LIB") or Path(__file__).resolve().parent.parent / ".build/pal/libcloister_pal.so"
    parser = argparse.ArgumentParser(description="Run a Cloister guest through libcloister_pal.")
    parser.add_argument("--lib", default=str(default_lib), help="path of libcloister_pal")
    parser.add_argument("--instance", default=".", help="the instance folder (holding Cloister.json)")
    parser.add_argument("--timeout", type=float, help="kill the guest after this many seconds")
    parser.add_argument("path", help="the guest path of the program, such as /bin/hello.wasm")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the program")
    options = parser.parse_args()

    pal = PAL(options.lib)
    try:
        pal.init(options.instance)
    except OSError as error:
        print(f"run_guest: cannot start the instance {options.instance}: {error.strerror}", file=sys.stderr)
        return 127
    try:
        env = [f"{name}={value}" for name, value in os.environ.items()]
        pid = pal.create_process(options.path, [options.path] + options.args, env)
        timer = None
        if options.timeout is not None:
            def kill():
                try:
                    pal.kill(pid, SIGKILL)
                except OSError:  # ESRCH: it ended just before
                    pass

            timer = threading.Timer(options.timeout, kill)
            timer.start()
        status = pal.exec(pid)
        if timer:
            timer.cancel()
    except OSError as error:
        print(f"run_guest: {options.path}: {error.strerror}", file=sys.stderr)
        return 127
    finally:
        pal.destroy()
    # The wait(2) encoding: os.waitstatus_to_exitcode would do too (Python 3.9+).
    signal = status & 0x7F
    return 128 + signal if signal else (status >> 8) & 0xFF


if __name__ == "__main__":
    sys.exit(main())
