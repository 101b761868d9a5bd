"""Run Chi bộ for development: the web server, a Celery worker and Celery beat, in one terminal.

    python scripts/dev.py [--host 127.0.0.1] [--port 8000]

Each process runs in a process group of its own, so a Ctrl-C reaches this supervisor once and it
forwards SIGINT (or SIGTERM) to every group exactly once — a second SIGINT would make the Celery
worker drop its running task. When any process exits, the others are stopped and this script
exits too. Output is prefixed with the process name.
"""

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
STOP_GRACE_SECONDS = 10
COLOURS = {"web": "\033[32m", "worker": "\033[36m", "beat": "\033[35m", "dev": "\033[1m"}
RESET = "\033[0m"

_print_lock = threading.Lock()
_use_colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def say(name: str, line: str) -> None:
    prefix = f"{name:<6} | "
    if _use_colour:
        prefix = f"{COLOURS.get(name, '')}{prefix}{RESET}"
    with _print_lock:
        sys.stdout.write(prefix + line.rstrip("\n") + "\n")
        sys.stdout.flush()


def commands(host: str, port: str) -> dict[str, list[str]]:
    py = sys.executable
    return {
        "web": [py, "manage.py", "runserver", f"{host}:{port}"],
        "worker": [py, "-m", "celery", "-A", "config", "worker", "-l", "info", "--pool=solo"],
        "beat": [py, "-m", "celery", "-A", "config", "beat", "-l", "info"],
    }


def pump(name: str, stream) -> None:
    for raw in iter(stream.readline, b""):
        say(name, raw.decode("utf-8", errors="replace"))
    stream.close()


def signal_all(procs: dict[str, subprocess.Popen], sig: int) -> None:
    for proc in procs.values():
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass


def banner(host: str, port: str) -> None:
    shown_host = "127.0.0.1" if host == "0.0.0.0" else host  # noqa: S104
    say("dev", f"Chi bộ is running at http://{shown_host}:{port}/")
    say("dev", "Demo logins (see seed_demo above): bithu, dangvien, capuy, bantochuc, admin; password chibo-demo-2026")
    say("dev", "Press Ctrl-C to stop the web server, the worker and beat.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
    args = parser.parse_args()

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    procs: dict[str, subprocess.Popen] = {}
    stopping = {"signal": None}

    def on_signal(signum, _frame):
        if stopping["signal"] is None:
            stopping["signal"] = signum
            say("dev", f"{signal.Signals(signum).name} received: stopping web, worker and beat…")
            signal_all(procs, signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    pumps = []
    for name, cmd in commands(args.host, args.port).items():
        # A fixed argv, no shell; process_group=0 puts the child in a group of its own.
        proc = subprocess.Popen(  # noqa: S603
            cmd,
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            process_group=0,
        )
        procs[name] = proc
        say("dev", f"started {name} (pid {proc.pid}): {' '.join(cmd[1:])}")
        thread = threading.Thread(target=pump, args=(name, proc.stdout), daemon=True)
        thread.start()
        pumps.append(thread)

    started = time.monotonic()
    banner_shown = False
    exit_code = 0
    # Wait until one process exits (or a signal asks us to stop).
    while stopping["signal"] is None:
        dead = [(name, proc.returncode) for name, proc in procs.items() if proc.poll() is not None]
        if dead:
            name, code = dead[0]
            say("dev", f"{name} exited with code {code}: stopping the others.")
            exit_code = 128 - code if code < 0 else (code or 1)  # -9 (killed) -> 137, as a shell says
            signal_all(procs, signal.SIGTERM)
            break
        if not banner_shown and time.monotonic() - started > 4:
            banner(args.host, args.port)
            banner_shown = True
        time.sleep(0.2)

    deadline = time.monotonic() + STOP_GRACE_SECONDS
    reported = set()
    while time.monotonic() < deadline:
        for name, proc in procs.items():
            if proc.poll() is not None and name not in reported:
                reported.add(name)
                say("dev", f"{name} stopped (exit code {proc.returncode}).")
        if len(reported) == len(procs):
            break
        time.sleep(0.1)
    for name, proc in procs.items():
        if proc.poll() is None:
            say("dev", f"{name} did not stop within {STOP_GRACE_SECONDS} s: killing it.")
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
    # runserver's autoreloader runs the server in a child process of the same group: sweep the
    # groups so that nothing outlives the supervisor.
    for proc in procs.values():
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for thread in pumps:
        thread.join(timeout=1)
    say("dev", "all stopped.")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
