"""Web pages, one blueprint package per area."""
