"""``python -m server.api``: print the OpenAPI document (what docs/openapi.json holds)."""

import sys

from . import openapi_json

sys.stdout.buffer.write(openapi_json())
