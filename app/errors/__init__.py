"""App-wide error handling: domain exceptions and HTTP errors, as JSON or as pages."""
