/// The Python side of the Python executor: files written into every interpreter's sandbox.
///
/// `driver.py` starts the interpreter, imports what every run needs, says it is ready, then
/// waits for one line on its standard input, which says its request is in `/task/request.json`:
/// `{"argv": [...]}`. It runs the payload
/// (`/function/function.py`), calls its `entrypoint(argv)`, and writes the returned string to
/// `/task/result` — or, when anything raises, the traceback to standard error and its last line
/// to `/task/error`, and exits with status 1. It leaves with `os._exit` (no finalisation: the
/// interpreter is discarded). One interpreter serves exactly one request.
enum PythonDriver {
    /// Where the files go in the sandbox.
    static let libraryDirectory = "/lib/cloister"
    static let driverPath = libraryDirectory + "/driver.py"
    static let payloadDirectory = "/function"
    static let payloadPath = payloadDirectory + "/function.py"
    static let taskDirectory = "/task"
    static let requestPath = taskDirectory + "/request.json"
    static let resultPath = taskDirectory + "/result"
    static let errorPath = taskDirectory + "/error"

    /// What the driver prints on standard output once it waits for its request.
    static let readyMarker: [UInt8] = Array("\u{1}cloister-ready\n".utf8)

    /// Every file of the library folder, by name, for a driver that imports `modules` before it
    /// says it is ready (a warm interpreter has them loaded: a run does not pay for them).
    static func files(preloading modules: [String]) -> [String: String] {
        let preload = modules.isEmpty ? "" : "import " + modules.joined(separator: ", ") + "  # preloaded for every run\n"
        return [
            "driver.py": driver.replacingOccurrences(of: "import cloister\n", with: "import cloister\n" + preload),
            "cloister.py": cloisterModule,
            "teaclave.py": teaclaveModule,
        ]
    }

    static let driver = #"""
        import json
        import os
        import sys
        import traceback

        # The library folder, whatever the runtime makes of PYTHONPATH (an isolated build ignores it).
        sys.path.insert(0, "/lib/cloister")
        import cloister


        def _fail(error):
            traceback.print_exception(type(error), error, error.__traceback__)
            last = traceback.format_exception_only(type(error), error)[-1].strip()
            with open("/task/error", "w", encoding="utf-8") as f:
                f.write(last)
            _leave(1)


        def _leave(status):
            # Every file is closed; the interpreter is discarded after one run, so its
            # finalisation (slow in an interpreter) is skipped.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)


        def _main():
            sys.stdout.write("\x01cloister-ready\n")
            sys.stdout.flush()
            sys.stdin.readline()
            with open("/task/request.json", "r", encoding="utf-8") as f:
                request = json.load(f)
            scope = {"__name__": "__cloister_function__", "__builtins__": __builtins__}
            try:
                with open("/function/function.py", "r", encoding="utf-8") as f:
                    source = f.read()
                exec(compile(source, "function.py", "exec"), scope)
                entrypoint = scope.get("entrypoint")
                if not callable(entrypoint):
                    raise cloister.FunctionError("the payload defines no entrypoint(argv) function")
                result = entrypoint(list(request["argv"]))
                if not isinstance(result, str):
                    raise TypeError("entrypoint must return a str, not " + type(result).__name__)
            except BaseException as error:
                _fail(error)
            with open("/task/result", "w", encoding="utf-8") as f:
                f.write(result)
            _leave(0)


        _main()
        """#

    static let cloisterModule = #"""
        """Cloister's API for Python functions: the files the function declared, by name.

        open_input(name) reads an input, create_output(name) writes an output; both return
        ordinary file objects (text by default, binary with mode "rb" / "wb"). The files are
        decrypted before the function runs and encrypted for their owners after it.
        """

        import os

        INPUTS = "/inputs"
        OUTPUTS = "/outputs"


        class FunctionError(Exception):
            """A misuse of the function API."""


        def _path(directory, name, kind):
            if not isinstance(name, str) or name in ("", ".", "..") or "/" in name or "\0" in name:
                raise ValueError("%s name must be a plain file name, got %r" % (kind, name))
            path = directory + "/" + name
            if not os.path.isfile(path):
                declared = ", ".join(sorted(os.listdir(directory))) or "none"
                raise FileNotFoundError("no %s named %r; declared %ss: %s" % (kind, name, kind, declared))
            return path


        def open_input(name, mode="r", encoding="utf-8"):
            """Opens the declared input `name` for reading ("r" text, "rb" binary)."""
            if mode not in ("r", "rb"):
                raise ValueError("an input opens with mode 'r' or 'rb', not %r" % (mode,))
            path = _path(INPUTS, name, "input")
            return open(path, mode) if "b" in mode else open(path, mode, encoding=encoding)


        def create_output(name, mode="w", encoding="utf-8"):
            """Opens the declared output `name` for writing ("w" text, "wb" binary)."""
            if mode not in ("w", "wb"):
                raise ValueError("an output opens with mode 'w' or 'wb', not %r" % (mode,))
            path = _path(OUTPUTS, name, "output")
            return open(path, mode) if "b" in mode else open(path, mode, encoding=encoding)


        def teaclave_open(name, mode="r"):
            """Teaclave's name for both: "r"/"rb" opens an input, "w"/"wb" an output."""
            if mode in ("r", "rb"):
                return open_input(name, mode)
            if mode in ("w", "wb"):
                return create_output(name, mode)
            raise ValueError("mode must be 'r', 'rb', 'w' or 'wb', not %r" % (mode,))
        """#

    /// `from teaclave import teaclave_open` works as in Teaclave's Python executor.
    static let teaclaveModule = #"""
        """Compatibility with Teaclave's Python functions."""

        from cloister import teaclave_open  # noqa: F401
        """#
}
