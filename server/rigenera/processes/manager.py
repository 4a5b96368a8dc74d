"""The process managers: errors that keep their status, and jobs in our PostgreSQL.

pygeoapi 0.24's ``Dummy`` manager turns every exception of a processor into a 400
whose description is the exception text: internal errors would look like the client's
fault and leak their message, and the answer lacks the ``type`` member of an OGC
exception document. Its ``PostgreSQLManager`` creates its table at start-up, keeps the
results in files (``output_dir``; without one they are not found), lists every job on
each page and reports any failure as ``InvalidParameterValue`` with the exception text.

``JobManager`` (the one configured, rigenera.ogc.config) is ours over pygeoapi's
``BaseManager``:
- without ``Prefer: respond-async`` a process runs synchronously, as before: nothing is
  stored, the answer is the output (quick runs stay quick and cost no write);
- with it, any process (pygeoapi then describes every one with ``async-execute``) is
  checked (``check_inputs``, when the processor has one: a bad input is a 400 at once),
  recorded in rigenera.process_jobs (migration 0018) and run in one of ``WORKERS``
  threads (at most ``QUEUE`` more wait, then 503); its status, results or exception
  document are read from that table, so they survive a restart (finished jobs are kept
  30 days, jobs.RETENTION_DAYS). Threads, not processes: nothing to leak; ``close()``
  (the app's shutdown) fails the jobs that never started and waits for the running ones.
- errors: ``ProcessorExecuteError`` keeps its status and OGC code; the database away is
  a 503 (DatabaseUnavailable); anything else a logged 500 without internals. A failed
  job keeps that status and document (its /results answers with them).
Callbacks (``subscriber``) are not supported and ignored: we do not declare the
callback conformance class.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import json
import logging
import threading
import uuid
from decimal import Decimal
from typing import Any

from pygeoapi.process.base import BaseProcessor, JobNotFoundError, ProcessorExecuteError
from pygeoapi.process.manager.base import BaseManager
from pygeoapi.process.manager.dummy import DummyManager
from pygeoapi.util import (
    JobStatus,
    RequestedProcessExecutionMode,
    RequestedResponse,
)

from rigenera.errors import DatabaseUnavailable, database_unavailable

LOG = logging.getLogger(__name__)
WORKERS = 2  # asynchronous jobs running at once
QUEUE = 8  # accepted jobs that may wait for a thread
SHUTDOWN_WAIT = 30.0
INTERNAL = "Errore interno del processo / internal process error"


class InvalidInput(ProcessorExecuteError):  # type: ignore[misc]
    """A process input that is missing, of the wrong type or out of range: 400."""

    http_status_code = 400
    ogc_exception_code = "InvalidParameterValue"


class ProcessFailed(ProcessorExecuteError):  # type: ignore[misc]
    """An unexpected failure inside a processor: 500, details only in the log."""

    http_status_code = 500
    ogc_exception_code = "NoApplicableCode"


class JobsBusy(ProcessorExecuteError):  # type: ignore[misc]
    """As many jobs as the server runs or queues are there already: retry later (503)."""

    http_status_code = 503
    ogc_exception_code = "ServiceUnavailable"


def run_processor(processor: BaseProcessor, process_id: str, data: dict[str, Any],
                  requested_outputs: dict[str, Any] | None) -> tuple[str, Any]:
    """The processor's (mime type, output), with our error rules (module docstring)."""
    try:
        mime_type, outputs = processor.execute(data, outputs=requested_outputs)
    except ProcessorExecuteError:
        raise
    except Exception as exc:
        away = database_unavailable(exc)
        if away is not None:  # not the process's failure: 503, retry
            raise away from exc
        LOG.exception("process %s failed", process_id)
        raise ProcessFailed(user_msg=INTERNAL) from exc
    return str(mime_type), outputs


def as_document(mime_type: str, outputs: Any) -> dict[str, Any]:
    """pygeoapi's document shape; a JSON body produced as bytes becomes an object."""
    if isinstance(outputs, bytes | str) and "json" in mime_type:
        outputs = json.loads(outputs)
    return {"outputs": [outputs]}


def _json_value(value: object) -> object:
    """What pygeoapi's serialiser also accepts: Decimal (exact up to 15 digits: our
    numeric(14, 2) amounts) and dates."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def as_bytes(outputs: Any) -> bytes:
    """A job's output as stored: bytes as produced, an object as JSON."""
    if isinstance(outputs, bytes):
        return outputs
    if isinstance(outputs, str):
        return outputs.encode()
    return json.dumps(outputs, ensure_ascii=False, default=_json_value).encode()


def exception_of(exc: BaseException, process_id: str) -> tuple[int, dict[str, Any]]:
    """A failed job's HTTP status and OGC exception document."""
    if isinstance(exc, ProcessorExecuteError):
        status, code, text = exc.http_status_code, exc.ogc_exception_code, exc.message
    elif isinstance(exc, DatabaseUnavailable):
        status, code, text = 503, exc.code, exc.description
    else:
        LOG.error("job of process %s failed: %r", process_id, exc, exc_info=exc)
        status, code, text = 500, "NoApplicableCode", INTERNAL
    return int(status), {"code": code, "type": code, "description": text}


class SyncManager(DummyManager):  # type: ignore[misc]
    """pygeoapi's Dummy manager with errors that keep their status (synchronous only)."""

    def execute_process(
        self,
        process_id: str,
        data_dict: dict[str, Any],
        execution_mode: RequestedProcessExecutionMode | None = None,
        requested_outputs: dict[str, Any] | None = None,
        subscriber: Any = None,
        requested_response: str | None = RequestedResponse.raw.value,
    ) -> tuple[str, str, Any, JobStatus, dict[str, str] | None]:
        processor = self.get_processor(process_id)
        mime_type, outputs = run_processor(processor, process_id, data_dict, requested_outputs)
        if requested_response == RequestedResponse.document.value:
            outputs = as_document(mime_type, outputs)
        headers = None
        if execution_mode is not None:
            headers = {"Preference-Applied": RequestedProcessExecutionMode.wait.value}
        return str(uuid.uuid1()), mime_type, outputs, JobStatus.successful, headers


class JobManager(SyncManager):
    """Synchronous by default, asynchronous jobs in rigenera.process_jobs on request."""

    def __init__(self, manager_def: dict[str, Any]) -> None:
        from rigenera.processes.jobs import RETENTION_DAYS, JobStore

        BaseManager.__init__(self, manager_def)
        self.is_async = True
        self.supports_subscribing = False
        self.store = JobStore(str(manager_def["connection"]))
        self.executor = cf.ThreadPoolExecutor(WORKERS, thread_name_prefix="rigenera-job")
        self.lock = threading.Lock()
        self.pending: dict[str, cf.Future[None]] = {}
        try:
            failed = self.store.fail_orphans()
            purged = self.store.purge()
        except Exception as exc:  # the app starts without; the next start tries again
            LOG.warning("could not look for interrupted or old jobs: %r", exc)
        else:
            if failed:
                LOG.warning("%d jobs interrupted by a restart marked failed", failed)
            if purged:
                LOG.info("%d jobs finished over %d days ago deleted", purged, RETENTION_DAYS)

    # ------------------------------------------------------------------ execution
    def execute_process(
        self,
        process_id: str,
        data_dict: dict[str, Any],
        execution_mode: RequestedProcessExecutionMode | None = None,
        requested_outputs: dict[str, Any] | None = None,
        subscriber: Any = None,
        requested_response: str | None = RequestedResponse.raw.value,
    ) -> tuple[str, str, Any, JobStatus, dict[str, str] | None]:
        if execution_mode != RequestedProcessExecutionMode.respond_async:
            return super().execute_process(process_id, data_dict, execution_mode,
                                           requested_outputs, subscriber, requested_response)
        # Every process may run as a job: pygeoapi describes each with async-execute as soon
        # as the manager is asynchronous, whatever its metadata says.
        processor = self.get_processor(process_id)
        check = getattr(processor, "check_inputs", None)
        if check is not None:
            check(data_dict)
        response = (RequestedResponse.document.value
                    if requested_response == RequestedResponse.document.value
                    else RequestedResponse.raw.value)
        job_id = str(uuid.uuid4())
        with self.lock:
            if len(self.pending) >= WORKERS + QUEUE:
                raise JobsBusy(user_msg="Troppi lavori in corso, riprovare tra poco / too many "
                                        "jobs running, retry shortly")
            self._store(self.store.add, job_id, process_id, data_dict, response)
            future = self.executor.submit(self._run, processor, process_id, job_id, data_dict,
                                          requested_outputs, response)
            self.pending[job_id] = future
        future.add_done_callback(lambda _: self._forget(job_id))
        headers = {"Preference-Applied": RequestedProcessExecutionMode.respond_async.value}
        return job_id, "application/json", None, JobStatus.accepted, headers

    def _forget(self, job_id: str) -> None:
        with self.lock:
            self.pending.pop(job_id, None)

    @staticmethod
    def _store(fn: Any, *args: Any, **kwargs: Any) -> Any:
        """A job store call from a request: the database away is a 503."""
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            away = database_unavailable(exc)
            if away is not None:
                raise away from exc
            raise

    def _run(self, processor: BaseProcessor, process_id: str, job_id: str,
             data: dict[str, Any], requested_outputs: dict[str, Any] | None,
             response: str) -> None:
        """A job, in a worker thread: running, then successful or failed."""
        try:
            if not self.store.update(job_id, JobStatus.running.value,
                                     "In esecuzione / running", 10):
                return  # dismissed before it started
            mime_type, outputs = run_processor(processor, process_id, data, requested_outputs)
            if response == RequestedResponse.document.value:
                mime_type, outputs = "application/json", as_document(mime_type, outputs)
            self.store.update(job_id, JobStatus.successful.value, "Completato / job complete",
                              100, mimetype=mime_type, output=as_bytes(outputs))
        except Exception as exc:
            status, document = exception_of(exc, process_id)
            try:
                self.store.update(job_id, JobStatus.failed.value,
                                  f"{document['code']}: {document['description']}", 100,
                                  mimetype="application/json", error_status=status,
                                  error=document)
            except Exception as store_exc:
                LOG.error("job %s failed and could not be recorded: %r", job_id, store_exc)

    # ------------------------------------------------------------------ the store
    def get_jobs(self, status: JobStatus | None = None, limit: int | None = None,
                 offset: int | None = None) -> dict[str, Any]:
        jobs, matched = self._store(self.store.jobs, status=status.value if status else None,
                                    limit=limit, offset=offset or 0)
        return {"jobs": jobs, "numberMatched": matched}

    def get_job(self, job_id: str) -> dict[str, Any]:
        jobs, _ = self._store(self.store.jobs, identifier=job_id, limit=1)
        if not jobs:
            raise JobNotFoundError()
        job: dict[str, Any] = jobs[0]
        return job

    def get_job_result(self, job_id: str) -> tuple[str | None, Any]:
        """(mime type, output bytes) of a successful job; JobNotFoundError when unknown."""
        row = self.job_result(job_id)
        if row is None:
            raise JobNotFoundError()
        return row["mimetype"], row["output"]

    def job_result(self, job_id: str) -> dict[str, Any] | None:
        """status, mimetype, output, error_status, error of a job, or None."""
        row: dict[str, Any] | None = self._store(self.store.result, job_id)
        return row

    def delete_job(self, job_id: str) -> bool:
        """Dismiss: the row goes; a job still waiting is cancelled, a running one finishes
        into nothing (its updates find no row)."""
        with self.lock:
            future = self.pending.get(job_id)
        if future is not None:
            future.cancel()
        if not self._store(self.store.delete, job_id):
            raise JobNotFoundError()
        return True

    def close(self) -> None:
        """Shutdown: jobs that never started are failed, running ones waited for (bounded)."""
        with self.lock:
            pending = dict(self.pending)
        running = []
        for job_id, future in pending.items():
            if future.cancel():
                try:
                    self.store.update(job_id, JobStatus.failed.value,
                                      "Server arrestato prima dell'avvio / server stopped "
                                      "before the job started", 100,
                                      mimetype="application/json", error_status=503, error={
                                          "code": "NoApplicableCode", "type": "NoApplicableCode",
                                          "description": "Server arrestato prima dell'avvio, "
                                          "eseguire di nuovo / server stopped before the job "
                                          "started, execute again"})
                except Exception as exc:
                    LOG.warning("could not mark job %s failed: %r", job_id, exc)
            else:
                running.append(future)
        if running:
            _, left = cf.wait(running, timeout=SHUTDOWN_WAIT)
            if left:
                LOG.error("%d process jobs still running at shutdown", len(left))
        self.executor.shutdown(wait=True, cancel_futures=True)

    def __repr__(self) -> str:
        return f"<JobManager> {self.name}"
