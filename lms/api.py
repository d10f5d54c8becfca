"""API-wide pieces: pagination, and the JSON parser that refuses bodies nested too deeply to handle safely.
The error shape and handler are in lms/errors.py."""

from rest_framework import exceptions, parsers
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


# No request body of this API nests beyond a few levels. Anything far deeper is refused before it reaches
# code that recurses over it (serializers, deepcopy, logging), where 1,000 levels raise RecursionError.
JSON_MAX_DEPTH = 32


def json_depth_exceeds(data, limit: int) -> bool:
    """Whether `data` nests lists/objects deeper than `limit` (iterative: safe on any depth)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, answering 400 instead of 500 for JSON nested deeper than JSON_MAX_DEPTH."""

    def parse(self, stream, media_type=None, parser_context=None):
        too_deep = f"JSON parse error - nested deeper than {JSON_MAX_DEPTH} levels."
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:  # the json module itself gave up
            raise exceptions.ParseError(too_deep) from None
        if json_depth_exceeds(data, JSON_MAX_DEPTH):
            raise exceptions.ParseError(too_deep)
        return data
