"""Where the heavy pure steps (tokenize, embed) run: in the flow's process (``runner: local``) or mapped over
Dask workers through prefect-dask's DaskTaskRunner (``runner: dask``). Both runners cut the work into the same
partitions (``partition_size``) and run the same task on each, so they give the same tokens and vectors; the
store (DuckDB) is only ever read and written by the flow's process."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from prefect import Task

from nlp.config import PipelineConfig


@contextmanager
def partition_runner(cfg: PipelineConfig) -> Iterator[Any]:
    """None for ``runner: local``; for ``runner: dask`` a started DaskTaskRunner on ``dask.address`` or on a
    LocalCluster of ``dask.n_workers`` processes (started here, closed on exit)."""
    if cfg.runner == "local":
        yield None
        return
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError as exc:  # pragma: no cover - the dask extra is in dev and the Makefile
        raise RuntimeError("runner: dask needs the dask extra: pip install 'koe[dask]'") from exc
    if cfg.dask.address:
        with DaskTaskRunner(address=cfg.dask.address) as runner:
            yield runner
        return
    runner = DaskTaskRunner(cluster_kwargs={"n_workers": cfg.dask.n_workers, "processes": True,
                                            "threads_per_worker": cfg.dask.threads_per_worker,
                                            "dashboard_address": None})
    with _workers_report_here(), runner:
        yield runner


@contextmanager
def _workers_report_here() -> Iterator[None]:
    """Point this machine's workers at the flow's ephemeral Prefect API while the runner is open.

    With no ``PREFECT_API_URL``, Prefect gives every process an ephemeral server of its own, so each worker of
    a LocalCluster would start one (a database and ~230 MB) and record its task runs where nobody looks. The
    task runner sends the current settings with every task, so naming the flow's server here is enough. Only
    for the LocalCluster: the ephemeral server listens on 127.0.0.1, which a remote worker cannot reach (for a
    cluster at ``dask.address``, set PREFECT_API_URL to a server both sides reach)."""
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

    server = SubprocessASGIServer()  # the process's ephemeral server (a singleton), started only if in use
    if get_current_settings().api.url or not server.running:
        yield
        return
    with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
        yield


def partitions(n: int, size: int) -> list[range]:
    """Consecutive index ranges of at most ``size``: the unit of work of both runners."""
    return [range(start, min(start + size, n)) for start in range(0, n, size)]


class Args:
    """One partition's arguments, opaque to Prefect: it walks lists, dicts and dataclasses in task parameters
    looking for futures (every token of every text: 27 s at 10k items), but not a plain object like this one."""

    __slots__ = ("kwargs",)

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs


def map_partitions(runner: Any, task: Task, calls: Sequence[dict]) -> list:
    """``task(Args(**kwargs))`` for each call, results in call order: one Prefect task run per partition, in
    this process (runner None) or on the runner's workers."""
    return list(iter_partitions(runner, task, calls))


def iter_partitions(runner: Any, task: Task, calls: Sequence[dict], ahead: int | None = None) -> Iterator:
    """As map_partitions, one result at a time in call order, so the caller can keep (save) each partition's
    result as soon as it is there. On a runner at most ``ahead`` partitions (default: twice the cluster's
    worker threads) are submitted and not yet fetched: every partition's arguments (the Japanese tokens of a
    million items) submitted at once waited in memory (the scheduler's, in this process for a LocalCluster, and
    the workers') until their turn; and a result is left to the workers only until it is fetched."""
    if runner is None:
        for kw in calls:
            yield task(Args(**kw))
        return
    ahead = max(1, ahead or 2 * sum(runner.client.nthreads().values()))
    todo, futures = iter(calls), deque()

    def submit_next() -> None:
        kw = next(todo, None)
        if kw is not None:
            futures.append(runner.submit(task, parameters={"args": Args(**kw)}))

    for _ in range(ahead):
        submit_next()
    while futures:  # a future let go of once its result is here: the worker then frees that result
        result = futures.popleft().result()
        submit_next()  # before handing the result over, so the workers stay busy while the caller saves it
        yield result


def runner_info(runner: Any) -> dict:
    """What ran the partitions, for the run summary: {"kind": "local"} or {"kind": "dask", "workers": n,
    "scheduler": address}."""
    if runner is None:
        return {"kind": "local"}
    info = runner.client.scheduler_info()  # the property connects (lazily) on first use
    return {"kind": "dask", "workers": len(info.get("workers", {})), "scheduler": info.get("address")}
