"""Face pipeline with no Flask: safe image decoding, detection, alignment, encoding,
comparison, liveness and template encryption. Filled in by the face-pipeline issue."""
