"""xAPI Learning Record Store: a Flask blueprint and its storage layer. It never imports
`app`. Filled in by the LRS issue."""
