"""Photo and other evidence files: resumable uploads (tus 1.0) into content-addressed storage."""
