"""Settings of the API's error shape and OpenAPI document: constants, nothing read from the environment."""

DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "core.errors.ExceptionHandler",
    # Field errors are documented by shape (field, code, message), not one enum per field: services add
    # codes of their own, and a client handles an unknown code the same way as a known one.
    "ERROR_SCHEMAS": {"400": "core.errors.ErrorResponse400Serializer"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "LMS API",
    "DESCRIPTION": "Courses, enrollments, progress and certificates.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc are served from the sidecar package: no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Separate request and response components: a request never has to send read-only fields (id, secret).
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_standardized_errors.openapi_hooks.postprocess_schema_enums",
        "core.schema.postprocess_schema_errors",
        "core.idempotency.postprocess_schema_idempotency_key",
    ],
    "ENUM_NAME_OVERRIDES": {
        "EnrollmentStatusEnum": "enrollments.models.Enrollment.Status",
        "CertificateStatusEnum": "certificates.models.Certificate.Status",
        "WebhookDeliveryStatusEnum": "notifications.models.WebhookDelivery.Status",
        # drf-standardized-errors' error types and codes (its documented set-up).
        "ValidationErrorEnum": "drf_standardized_errors.openapi_serializers.ValidationErrorEnum.choices",
        "ClientErrorEnum": "drf_standardized_errors.openapi_serializers.ClientErrorEnum.choices",
        "ServerErrorEnum": "drf_standardized_errors.openapi_serializers.ServerErrorEnum.choices",
        **{
            f"ErrorCode{status}Enum": f"drf_standardized_errors.openapi_serializers.ErrorCode{status}Enum.choices"
            for status in (401, 403, 404, 405, 406, 415, 429, 500)
        },
    },
}
