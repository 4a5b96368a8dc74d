"""The process manager: synchronous execution, no job store.

pygeoapi 0.24's ``Dummy`` manager is the one meant for synchronous execution
(``is_async`` False, so pygeoapi advertises no ``/jobs``), but it turns every
exception of a processor into a 400 whose description is the exception text:
internal errors would look like the client's fault and leak their message,
and the answer lacks the ``type`` member of an OGC exception document. This
subclass lets ``ProcessorExecuteError`` reach pygeoapi's ``execute_process``,
which answers with the error's own status and OGC code ({code, type,
description}); anything else becomes a logged 500 without internals.
Callbacks (``subscriber``) are not supported and ignored: we do not declare
the callback conformance class.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from pygeoapi.process.base import ProcessorExecuteError
from pygeoapi.process.manager.dummy import DummyManager
from pygeoapi.util import JobStatus, RequestedProcessExecutionMode, RequestedResponse

from rigenera.errors import database_unavailable

LOG = logging.getLogger(__name__)


class InvalidInput(ProcessorExecuteError):  # type: ignore[misc]
    """A process input that is missing, of the wrong type or out of range: 400."""

    http_status_code = 400
    ogc_exception_code = "InvalidParameterValue"


class ProcessFailed(ProcessorExecuteError):  # type: ignore[misc]
    """An unexpected failure inside a processor: 500, details only in the log."""

    http_status_code = 500
    ogc_exception_code = "NoApplicableCode"


class SyncManager(DummyManager):  # type: ignore[misc]
    """pygeoapi's Dummy manager with errors that keep their status."""

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
        try:
            mime_type, outputs = processor.execute(data_dict, outputs=requested_outputs)
        except ProcessorExecuteError:
            raise
        except Exception as exc:
            away = database_unavailable(exc)
            if away is not None:  # not the process's failure: 503, retry
                raise away from exc
            LOG.exception("process %s failed", process_id)
            raise ProcessFailed(user_msg="Errore interno del processo / internal process error") \
                from exc
        if requested_response == RequestedResponse.document.value:
            # pygeoapi's document shape; a JSON body we produced as bytes becomes an object.
            if isinstance(outputs, bytes | str) and mime_type.endswith("json"):
                outputs = json.loads(outputs)
            outputs = {"outputs": [outputs]}
        headers = None
        if execution_mode is not None:
            headers = {"Preference-Applied": RequestedProcessExecutionMode.wait.value}
        return str(uuid.uuid1()), mime_type, outputs, JobStatus.successful, headers
