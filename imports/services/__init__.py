"""Bulk enrollment from a CSV file: checking an upload, applying it in chunks, cancelling, notifying.

One module per step: `upload` (in the request), `reading` (the stored file), `applying` (one chunk),
`processing` (the task's runs, fail, cancel, resume), `notifying` (behind the chunks), `limits` (settings).

The life of an import (see ImportJob's docstring for why it is shaped this way):

    request: import_start    size, then the head of the file; stores it, one ImportJob (queued), one task
    task:    import_process  validating: the whole file decodes and parses, rows counted (nothing written)
                             running: chunks of `chunk_rows` rows, one transaction each, for a time budget,
                             then the next run is queued from the resume point
                             -> completed | failed (file-level error) | cancelled (at a chunk boundary)
    task:    import_notify   behind the chunks: `enrollments_imported` per batch of applied rows

Rows are written set-based: per chunk a handful of queries whatever its size (users by email, bulk insert
of the missing ones, enrollments by (learner, course), bulk insert, the import's earlier rows for the
duplicate check, bulk inserts of applied rows and errors, the progress update).
"""

from imports.services.limits import import_max_bytes, too_large_message
from imports.services.notifying import import_notify
from imports.services.processing import import_cancel, import_fail, import_process, import_resume
from imports.services.upload import (
    SAMPLE_BYTES,
    UploadShape,
    import_same_file_earlier,
    import_start,
    import_upload_check,
    import_upload_scan,
)

__all__ = [
    "SAMPLE_BYTES",
    "UploadShape",
    "import_cancel",
    "import_fail",
    "import_max_bytes",
    "import_notify",
    "import_process",
    "import_resume",
    "import_same_file_earlier",
    "import_start",
    "import_upload_check",
    "import_upload_scan",
    "too_large_message",
]
