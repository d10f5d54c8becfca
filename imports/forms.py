"""The upload form of the import pages, and the upload handler that stops reading a file over the limit."""

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

from imports import services as imports

# Multipart framing and the small form fields around the file.
UPLOAD_OVERHEAD_BYTES = 64 * 1024


class ImportUploadLimit(FileUploadHandler):
    """Stops reading an upload as soon as it is known to be over IMPORT_MAX_BYTES.

    Django otherwise spools the whole request to a temporary file before any view runs. Installed first
    (before the CSRF check parses the body): a declared Content-Length over the limit stops at the first
    file part, an undeclared one once the bytes received pass the limit. Fields before the file (the CSRF
    token comes first in our forms) are still parsed, so the page can answer with its form error.
    """

    def __init__(self, request=None):
        super().__init__(request)
        self.too_large = False
        self.size: int | None = None
        self.limit = imports.import_max_bytes()

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > self.limit + UPLOAD_OVERHEAD_BYTES:
            self.too_large, self.size = True, content_length

    def new_file(self, *args, **kwargs):
        if self.too_large:
            raise StopUpload(connection_reset=True)
        super().new_file(*args, **kwargs)

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self.too_large, self.size = True, None
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None

    @classmethod
    def install(cls, request) -> "ImportUploadLimit":
        handler = cls(request)
        request.upload_handlers.insert(0, handler)
        return handler


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        allow_empty_file=True,  # the import's own check says "The file is empty."
        error_messages={"required": "Choose a CSV file to upload."},
        help_text="UTF-8 (with or without BOM), comma or semicolon separated, with the columns email, "
        "full_name, course (the course's slug) and optionally send_welcome (yes/no).",
    )
    send_welcome = forms.BooleanField(
        label="Send a welcome email to new learners",
        required=False,
        initial=True,
        help_text="Rows with their own send_welcome value follow it.",
    )

    def __init__(self, *args, limit: ImportUploadLimit | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit = limit

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        try:
            imports.import_upload_check(upload=upload)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["file"]) from None
        return upload

    def clean(self):
        if self.limit is not None and self.limit.too_large:
            # The file field is empty here (its bytes were never read): say why instead of "required".
            self.errors.pop("file", None)
            self.add_error("file", imports.too_large_message(self.limit.size))
        return super().clean()
