"""The JSON API under `/api/`: session sign-in, CSRF token in the ``X-CSRFToken`` header, errors
as ``{"error": code, "message": text}`` with a 4xx status."""
