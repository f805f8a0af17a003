"""A warm job process for local mode: heavy imports once, every job a fresh forked child.

Local mode only; SageMaker still starts a fresh container per job. Run by path, not as a
module, so that it works whatever package the jobs come from:

    python -P jobs/rewardds_jobs/warm.py --preload torch,transformers,peft,opacus

It imports the modules named, and only imports them: no tensor op runs and no thread is
started here, because a child forked from a process whose thread pools are busy can hang
on a lock held by a thread that does not exist in the child. Each job is then a child of
this process, forked when it is asked for, that becomes what `python <argv>` would have
been: its own process group (a stop ends the whole group), the job's exact environment,
stdout and stderr appended to the job's log, the job's working directory and exit status.
Nothing a job does can reach the next one: a job runs only in its own child, and the
server never runs job code.

Protocol, one JSON object per line:
  out, once:  {"ready": true, "seconds": 5.1, "preloaded": [...], "failed": [...]}
  in:         {"id": 1, "argv": ["-m", "rewardds_jobs", "score"], "env": {...}, "cwd": "...", "log": "..."}
              (optional "stdout" and "stderr" paths take that stream instead of the log)
  out:        {"id": 1, "pid": 4242}, and when it has ended {"id": 1, "code": 0, "signal": null}
Closing stdin ends the server; any job still running is killed with its group.

Only the standard library is imported before the preloads, so that this file does not
depend on the package it serves.
"""

from __future__ import annotations

import atexit
import builtins
import contextlib
import gc
import importlib
import json
import os
import runpy
import select
import signal
import sys
import threading
import time
import traceback

# The environment the jobs set before their imports (env_defaults.py, equal by test): some
# libraries read it once at import, which happens here, not in the job.
IMPORT_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",
}


def preload(names: list[str]) -> tuple[list[str], list[str]]:
    done, failed = [], []
    for name in names:
        try:
            importlib.import_module(name)
            done.append(name)
        except Exception as error:  # a missing library fails the jobs that need it, not the server
            failed.append(f"{name}: {type(error).__name__}")
    return done, failed


def exit_code_of(error: SystemExit) -> int:
    """What the interpreter does with `sys.exit(x)`: None is 0, an int is itself, anything else is printed and 1."""
    if error.code is None:
        return 0
    if isinstance(error.code, int):
        return error.code
    print(error.code, file=sys.stderr)
    return 1


def become_job(request: dict, server_fds: list[int]) -> None:
    """In the forked child: turn this copy of the server into the job's own process."""
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    for fd in server_fds:
        os.close(fd)
    os.setpgid(0, 0)
    try:  # the job dies with the server (Linux), so a crashed server leaves no orphan job
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass
    # One log for both streams, as local mode keeps it; a caller that reads them apart (the
    # jobs' own tests) names a file for each.
    for fd, path in ((1, request.get("stdout", request["log"])), (2, request.get("stderr", request["log"]))):
        file = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(file, fd)
        os.close(file)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.chdir(request["cwd"])

    # Exactly the job's environment: the server's own variables do not carry over.
    os.environ.clear()
    os.environ.update(request["env"])
    argv = request["argv"]
    # sys.path as `python -m` / `python -c` build it: the working directory first, then PYTHONPATH.
    extra = [p for p in request["env"].get("PYTHONPATH", "").split(os.pathsep) if p and p not in sys.path]
    sys.path[0:0] = [os.getcwd() if argv[0] == "-m" else "", *extra]
    # A fresh interpreter seeds numpy's and torch's global generators from the OS; a fork
    # would share the server's. (`random` reseeds itself in a forked child.)
    if "numpy.random" in sys.modules:
        sys.modules["numpy.random"].seed()
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.seed()
        if request["env"].get("OMP_NUM_THREADS", "").isdigit():
            torch.set_num_threads(int(request["env"]["OMP_NUM_THREADS"]))


def run_job(argv: list[str]) -> int:
    """Runs `python <argv>` in this process; returns the exit code the interpreter would."""
    try:
        if argv[0] == "-m":
            sys.argv = [argv[1], *argv[2:]]
            runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        elif argv[0] == "-c":
            sys.argv = ["-c", *argv[2:]]
            exec(compile(argv[1], "<string>", "exec"), {"__name__": "__main__", "__builtins__": builtins})
        else:
            sys.argv = list(argv)
            runpy.run_path(argv[0], run_name="__main__")
        code = 0
    except SystemExit as error:
        code = exit_code_of(error)
    except BaseException:
        traceback.print_exc()
        code = 1
    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    return code


class Server:
    def __init__(self, out) -> None:
        self.out = out
        self.children: dict[int, int] = {}  # pid → request id
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wake_w)

    def send(self, message: dict) -> None:
        self.out.write(json.dumps(message) + "\n")
        self.out.flush()

    def start(self, request: dict) -> None:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                become_job(request, [self.wake_r, self.wake_w, self.out.fileno()])
                code = run_job(request["argv"])
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        # Set in both processes, so a stop sent as soon as the pid is known reaches the group.
        with contextlib.suppress(OSError):  # the child already did it, or has already ended
            os.setpgid(pid, pid)
        self.children[pid] = request["id"]
        self.send({"id": request["id"], "pid": pid})

    def reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            request_id = self.children.pop(pid, None)
            if request_id is None:
                continue
            if os.WIFSIGNALED(status):
                self.send({"id": request_id, "code": None, "signal": signal.Signals(os.WTERMSIG(status)).name})
            else:
                self.send({"id": request_id, "code": os.waitstatus_to_exitcode(status), "signal": None})

    def serve(self) -> None:
        buffer = b""
        stdin_open = True
        while stdin_open:
            readable, _, _ = select.select([0, self.wake_r], [], [], 1.0)
            if self.wake_r in readable:
                while True:
                    try:
                        if not os.read(self.wake_r, 4096):
                            break
                    except BlockingIOError:
                        break
            self.reap()
            if 0 in readable:
                data = os.read(0, 1 << 16)
                if not data:
                    stdin_open = False
                buffer += data
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if line.strip():
                        self.start(json.loads(line))
        for pid in list(self.children):
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
        while self.children:
            self.reap()
            time.sleep(0.05)


def main(argv: list[str]) -> int:
    names: list[str] = []
    if len(argv) >= 2 and argv[0] == "--preload":
        names = [n for n in argv[1].split(",") if n]
    # Replies go on a private copy of stdout; fd 1 becomes stderr, so stray output of an
    # import cannot corrupt the protocol.
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    for name, value in IMPORT_ENV.items():
        os.environ.setdefault(name, value)
    started = time.perf_counter()
    done, failed = preload(names)
    if threading.active_count() > 1:
        out.write(json.dumps({"ready": False, "reason": "a preloaded module started a Python thread"}) + "\n")
        return 1
    gc.collect()
    gc.freeze()  # keeps the preloaded objects' pages shared with the children
    server = Server(out)
    server.send(
        {"ready": True, "seconds": round(time.perf_counter() - started, 3), "preloaded": done, "failed": failed}
    )
    server.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
