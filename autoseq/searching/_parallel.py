"""``--jobs N`` / ``--gpus``: N worker processes on this machine share one study.

Processes, not threads: TensorFlow keeps one runtime per process, and a process per GPU is the
only clean way to pin each worker to its device. Each worker runs ``run_worker`` on the same
study (through ``autoseq.searching._entry``, as ``autoseq worker`` would); this parent only starts
them, watches the study for progress, and collects the result.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from autoseq._interrupt import DEFAULT_GRACE, EXIT_TERMINATED, Terminated
from autoseq.exceptions import SearchError
from autoseq.searching._devices import THREADS_ENV
from autoseq.searching._keras_backend import usable_cores

if TYPE_CHECKING:
    from autoseq.backends import TrialRecord

logger = logging.getLogger("autoseq")

STORAGE_ENV = "AUTOSEQ_STORAGE"
_POLL_SECONDS = 1.0
_STOP_MARGIN_SECONDS = 5.0
LOGS = "workers"


def worker_env(index: int, *, jobs: int, gpus: list[str], storage: str,
               base: dict[str, str] | None = None,
               keras_backend: str | None = None) -> dict[str, str]:
    """The environment of worker ``index``: its GPU, memory growth, its share of the cores, and
    the Keras backend it trains on (``KERAS_BACKEND``; ``None``: the worker's default).

    With ``gpus``, workers go round-robin over them (``CUDA_VISIBLE_DEVICES`` holds one device);
    without, each worker sees what this process sees. The storage URL travels in the environment
    rather than on the command line, where ``ps`` would show its password.
    """
    env = dict(os.environ if base is None else base)
    if gpus:
        env["CUDA_VISIBLE_DEVICES"] = gpus[index % len(gpus)]
    env["TF_FORCE_GPU_ALLOW_GROWTH"] = "true"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    threads = max(1, usable_cores() // jobs)
    env[THREADS_ENV] = str(threads)
    env["OMP_NUM_THREADS"] = str(threads)
    env[STORAGE_ENV] = storage
    if keras_backend:
        env["KERAS_BACKEND"] = keras_backend
    env["PYTHONUNBUFFERED"] = "1"
    import autoseq

    home = str(Path(autoseq.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([home, *filter(None, [env.get("PYTHONPATH")])])
    return env


# ``python -m`` would put the current folder first on sys.path, so a source checkout of another
# autoseq there would run instead of ours: drop it, and find ours via PYTHONPATH.
_BOOT = ("import sys\nif sys.path[:1] == ['']: del sys.path[0]\n"
         "from autoseq.searching._entry import main\nmain()")


def worker_command(index: int, *, study: str, run_dir: Path, trials: int,
                   timeout: float | None, max_failures: int, precision: str,
                   compile: str = "auto", grace: float = DEFAULT_GRACE) -> list[str]:
    """The command line of worker ``index`` (``autoseq.searching._entry`` in this Python)."""
    cmd = [sys.executable, "-c", _BOOT, "--study", study,
           "--run-dir", str(Path(run_dir).resolve()), "--trials", str(trials), "--max-failures",
           str(max_failures), "--precision", precision, "--compile", compile,
           "--worker-index", str(index), "--grace", f"{grace:g}"]
    if timeout is not None:
        cmd += ["--timeout", f"{max(timeout, 0.0):g}"]
    return cmd


def run_workers(engine, *, storage: str, study: str, run_dir: Path, jobs: int,
                gpus: list[str], precision: str, compile: str, trials: int,
                timeout: float | None, max_failures: int,
                on_record: Callable[[TrialRecord], None],
                grace: float = DEFAULT_GRACE, keras_backend: str | None = None) -> str | None:
    """Start ``jobs`` workers on the opened ``engine``'s study (training on Keras's
    ``keras_backend``) and wait for them.

    ``on_record`` is called once per trial finished while they run (the parent polls the study).
    Ctrl-C is passed on to the workers, which fail their running trial as interrupted; so is
    SIGTERM, on which they queue it again and exit within ``grace`` seconds.

    Returns:
        Why the search stopped short of ``trials`` (``None`` when it reached them).

    Raises:
        SearchError: a worker refused to start (its one-line error is quoted).
    """
    logs = run_dir / LOGS
    logs.mkdir(parents=True, exist_ok=True)
    seen = {r.number for r in engine.records() if r.state != "running"}
    started = time.monotonic()
    procs: list[tuple[int, subprocess.Popen, Path]] = []
    try:
        for i in range(jobs):
            log = logs / f"worker-{i}.log"
            with open(log, "ab") as fh:
                # A session of their own: Ctrl-C reaches the parent only, which passes it on once.
                proc = subprocess.Popen(
                    worker_command(i, study=study, run_dir=run_dir, trials=trials,
                                   timeout=None if timeout is None
                                   else timeout - (time.monotonic() - started),
                                   max_failures=max_failures, precision=precision,
                                   compile=compile, grace=grace),
                    env=worker_env(i, jobs=jobs, gpus=gpus, storage=storage,
                                   keras_backend=keras_backend), stdout=fh,
                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                    preexec_fn=_die_with(os.getpid()))
            procs.append((i, proc, log))
            logger.info("worker %d: pid %d%s, log %s", i, proc.pid,
                        f", GPU {gpus[i % len(gpus)]}" if gpus else "", log)
        _watch(engine, procs, seen, on_record)
    except KeyboardInterrupt as exc:
        _stop(procs, signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT,
              wait=grace)
        engine.reap()
        _report_new(engine, seen, on_record)
        raise
    except BaseException:
        _stop(procs, signal.SIGINT, wait=grace)
        raise
    done, _ = engine.progress()
    if done >= trials:
        return None
    why = (f"timeout of {timeout:g} s reached" if timeout is not None
           and time.monotonic() - started >= timeout else "the workers stopped")
    return f"{why} with {done} of {trials} trials done (see their logs in {logs})"


def _die_with(parent: int) -> Callable[[], None]:
    """In the child: Ctrl-C handling on, and SIGINT when the parent dies (Linux).

    A parent started with SIGINT ignored (``nohup``, a background job) would pass that on; the
    worker must see the SIGINT we send to stop it. No worker outlives its search: it stops as on
    Ctrl-C, marking its running trial interrupted.
    """

    def arm() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if sys.platform.startswith("linux"):
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGINT))  # PR_SET_PDEATHSIG
            if os.getppid() != parent:  # the parent died before the line above
                os.kill(os.getpid(), signal.SIGINT)

    return arm


def _watch(engine, procs, seen: set[int], on_record) -> None:
    reported: set[int] = set()
    while True:
        engine.reap()
        _report_new(engine, seen, on_record)
        running = 0
        for i, proc, log in procs:
            code = proc.poll()
            if code is None:
                running += 1
                continue
            if i in reported:
                continue
            reported.add(i)
            if code == 2:  # bad input: every worker would refuse alike
                _stop(procs, signal.SIGINT)
                raise SearchError(f"worker {i} refused to start: {_last_line(log)}")
            if code == EXIT_TERMINATED:
                logger.warning("worker %d (pid %d) was stopped (SIGTERM); its trial is queued "
                               "again for the others — see %s", i, proc.pid, log)
            elif code != 0:
                how = f"signal {-code}" if code < 0 else f"exit code {code}"
                logger.warning("worker %d (pid %d) died (%s); its trial is retried by the "
                               "others — see %s", i, proc.pid, how, log)
        if running == 0:
            engine.reap()
            _report_new(engine, seen, on_record)
            return
        time.sleep(_POLL_SECONDS)


def _report_new(engine, seen: set[int], on_record) -> None:
    for record in engine.records():
        if record.state != "running" and record.number not in seen:
            seen.add(record.number)
            on_record(record)


def _stop(procs, sig: int, *, wait: float = DEFAULT_GRACE) -> None:
    """Send ``sig`` to the live workers; kill those still alive ``wait`` seconds later."""
    alive = [p for _, p, _ in procs if p.poll() is None]
    for p in alive:
        p.send_signal(sig)
    deadline = time.monotonic() + wait + _STOP_MARGIN_SECONDS
    for p in alive:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _last_line(log: Path) -> str:
    try:
        lines = [ln for ln in log.read_text(encoding="utf-8", errors="replace").splitlines()
                 if ln.strip()]
    except OSError:
        return "(no log)"
    errors = [ln for ln in lines if ln.startswith("error:")]
    return (errors or lines or ["(empty log)"])[-1]
